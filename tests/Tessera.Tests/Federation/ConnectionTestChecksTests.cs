using Tessera.Federation;

namespace Tessera.Tests.Federation;

/// <summary>The verdict of a connection test from a connector's result alone, one row per kind of result.</summary>
public sealed class ConnectionTestChecksTests
{
    private static readonly UpstreamDiagnosis Audience = new(UpstreamChecks.Audience, "Meant for another client.", "Set ClientId.") { Expected = "tessera", Received = "other" };

    private static UpstreamResult SignedIn(string? email, bool verified, params (string Name, string Value)[] claims) =>
        UpstreamResult.Success(new UpstreamIdentity("st-marys", "c", "u-1", claims.ToDictionary(c => c.Name, c => (IReadOnlyList<string>)[c.Value]))
        {
            Email = email,
            EmailVerified = verified,
        });

    public static TheoryData<string, UpstreamResult, string, string[]> Rows => new()
    {
        // the result, as a connector returned it; the protocol; the checks reported
        { "failure the connector diagnosed", UpstreamResult.Failure("invalid_id_token", "it was issued for another client") with { Diagnosis = Audience }, "oidc", [UpstreamChecks.Audience] },
        { "failure the connector could say no more about", UpstreamResult.Failure("userinfo_failed", "The userinfo endpoint did not answer."), "oidc", ["userinfo_failed"] },
        { "OIDC sign-in with a verified email", SignedIn("ana@stmarys.example", verified: true), "oidc", [] },
        { "OIDC sign-in with an unverified email", SignedIn("ana@stmarys.example", verified: false, ("email_verified", "false")), "oidc", [UpstreamChecks.UnverifiedEmail] },
        { "OIDC sign-in with a blank email", SignedIn(" ", verified: true), "oidc", [UpstreamChecks.MissingEmail] },
        { "SAML sign-in with an email, which the signed assertion vouches for", SignedIn("ana@stmarys.example", verified: false), "saml2", [] },
        { "SAML sign-in without an email", SignedIn(null, verified: false, ("Role", "doctor")), "saml2", [UpstreamChecks.MissingEmail] },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Evaluate_reports_the_checks_that_failed_or_would_bite(string result, UpstreamResult upstream, string protocol, string[] checks)
    {
        var diagnoses = ConnectionTestChecks.Evaluate(upstream, protocol);

        Assert.True(checks.SequenceEqual(diagnoses.Select(d => d.Check)), $"{result}: {string.Join(", ", diagnoses.Select(d => d.Check))}");
        Assert.All(diagnoses, d => Assert.False(string.IsNullOrWhiteSpace(d.Summary) || string.IsNullOrWhiteSpace(d.Hint), result));
    }

    [Fact]
    public void A_failure_without_a_diagnosis_is_reported_with_its_error_and_description()
    {
        var diagnosis = Assert.Single(ConnectionTestChecks.Evaluate(UpstreamResult.Failure("userinfo_failed", "The userinfo endpoint did not answer."), "oidc"));

        Assert.Equal("userinfo_failed", diagnosis.Check);
        Assert.Equal("The userinfo endpoint did not answer.", diagnosis.Summary);
    }

    [Fact]
    public void A_diagnosed_failure_is_reported_as_the_connector_diagnosed_it()
    {
        var diagnosis = Assert.Single(ConnectionTestChecks.Evaluate(UpstreamResult.Failure("invalid_id_token", "refused") with { Diagnosis = Audience }, "oidc"));

        Assert.Same(Audience, diagnosis);
    }
}
