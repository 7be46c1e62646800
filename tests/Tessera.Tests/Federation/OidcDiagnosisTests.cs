using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;
using Tessera.Federation;
using Tessera.Tests.Hostile;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Federation;

/// <summary>
/// A connection test against an OpenID Connect IdP that was set up wrong, one pitfall per row: the connector refuses
/// the answer exactly as before (same error, same words for the user), and its diagnosis names the check, what Tessera
/// expected, what the IdP sent and what to change. A sign-in that works but would still bite in production is caught
/// by <see cref="ConnectionTestChecks"/>.
/// </summary>
public sealed class OidcDiagnosisTests(SharedBroker broker) : IClassFixture<SharedBroker>
{
    private static readonly RsaSecurityKey Unpublished = new(RSA.Create(2048)) { KeyId = "signing-2026" };

    /// <summary>What a row expects of the diagnosis; a value left null is not checked.</summary>
    public sealed record Pitfall(Action<FakeUpstreamIdp> Fault, string Error, string Check)
    {
        public Func<Arrangement, string?>? Expected { get; init; }
        public Func<Arrangement, string?>? Received { get; init; }
        public TimeSpan? ClockOffset { get; init; }

        /// <summary>Words the hint must contain: the setting or value the administrator has to change.</summary>
        public Func<Arrangement, string> HintNames { get; init; } = _ => "";
    }

    /// <summary>What the expectations are computed from: the IdP as it runs, and where Tessera asked it to answer.</summary>
    public sealed record Arrangement(FakeUpstreamIdp Idp, Uri CallbackUri);

    public static readonly Dictionary<string, Pitfall> Pitfalls = new()
    {
        ["ID token audience is another application's client ID"] = new(idp => idp.ClaimsEditor = c => c["aud"] = "billing-portal", "invalid_id_token", UpstreamChecks.Audience)
        {
            Expected = _ => FakeUpstreamIdp.ClientId,
            Received = _ => "billing-portal",
            HintNames = _ => "ClientId",
        },
        ["IdP clock ten minutes ahead"] = new(idp => idp.Clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(10)), "invalid_id_token", UpstreamChecks.ClockSkew)
        {
            ClockOffset = TimeSpan.FromMinutes(10),
            HintNames = _ => "NTP",
        },
        ["IdP clock ten minutes behind"] = new(idp => idp.Clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(-10)), "invalid_id_token", UpstreamChecks.ClockSkew)
        {
            ClockOffset = TimeSpan.FromMinutes(-10),
            HintNames = _ => "NTP",
        },
        ["ID token signed with a key the IdP does not publish"] = new(idp => idp.IdTokenWriter = plan =>
            idp.Sign(new(plan.Header) { ["kid"] = Unpublished.KeyId! }, plan.Payload, data => FakeUpstreamIdp.SignRs256(Unpublished, data)), "invalid_id_token", UpstreamChecks.SigningKey)
        {
            Expected = a => a.Idp.SigningKey.KeyId,
            Received = _ => Unpublished.KeyId,
            HintNames = a => a.Idp.Issuer + "/jwks",
        },
        ["ID token issued by another tenant"] = new(idp => idp.ClaimsEditor = c => c["iss"] = "https://login.elsewhere.example/tenant-b", "invalid_id_token", UpstreamChecks.Issuer)
        {
            Expected = a => a.Idp.Issuer,
            Received = _ => "https://login.elsewhere.example/tenant-b",
            HintNames = a => a.Idp.Issuer,
        },
        ["ID token signed with RS512, which the connection does not allow"] = new(idp => idp.IdTokenWriter = plan =>
            idp.Sign(new(plan.Header) { ["alg"] = "RS512" }, plan.Payload, data => plan.Key.Rsa.SignData(data, HashAlgorithmName.SHA512, RSASignaturePadding.Pkcs1)), "invalid_id_token", UpstreamChecks.SignatureAlgorithm)
        {
            Expected = _ => "RS256, ES256, PS256",
            Received = _ => "RS512",
            HintNames = _ => "AllowedAlgorithms",
        },
        ["redirect URI not registered at the IdP"] = new(idp =>
        {
            idp.AuthorizeError = "invalid_request";
            idp.AuthorizeErrorDescription = "The 'redirect_uri' parameter does not match any of the client's registered redirect URIs.";
        }, "upstream_error", UpstreamChecks.RedirectUri)
        {
            Expected = a => a.CallbackUri.AbsoluteUri,
            Received = _ => "invalid_request: The 'redirect_uri' parameter does not match any of the client's registered redirect URIs.",
            HintNames = a => a.CallbackUri.AbsoluteUri,
        },
        ["redirect URI mismatch named only by the error code"] = new(idp => idp.AuthorizeError = "redirect_uri_mismatch", "upstream_error", UpstreamChecks.RedirectUri)
        {
            Expected = a => a.CallbackUri.AbsoluteUri,
            Received = _ => "redirect_uri_mismatch",
            HintNames = a => a.CallbackUri.AbsoluteUri,
        },
        ["redirect URI refused when the code is redeemed"] = new(idp => idp.TokenError = ("invalid_grant", "redirect_uri does not match the authorization request"), "token_request_failed", UpstreamChecks.RedirectUri)
        {
            Expected = a => a.CallbackUri.AbsoluteUri,
            Received = _ => "invalid_grant: redirect_uri does not match the authorization request",
            HintNames = a => a.CallbackUri.AbsoluteUri,
        },
        ["client secret rotated at the IdP"] = new(idp => idp.ExpectedClientSecret = "rotated-client-secret-9876543210", "token_request_failed", UpstreamChecks.ClientAuthentication)
        {
            Expected = _ => null,
            Received = _ => "invalid_client",
            HintNames = _ => "ClientSecret",
        },
        ["code expired before it was redeemed"] = new(idp => idp.TokenError = ("invalid_grant", "The authorization code has expired"), "token_request_failed", UpstreamChecks.TokenRequest)
        {
            Received = _ => "invalid_grant: The authorization code has expired",
        },
        ["user not assigned to the application"] = new(idp => idp.AuthorizeError = "access_denied", "upstream_error", UpstreamChecks.UpstreamError)
        {
            Received = _ => "access_denied",
            HintNames = _ => "assign the user",
        },
        ["ID token nonce of another sign-in"] = new(idp => idp.ClaimsEditor = c => c["nonce"] = "nonce-of-another-sign-in", "nonce_mismatch", UpstreamChecks.Nonce)
        {
            Expected = _ => null,
            Received = _ => null,
        },
    };

    public static TheoryData<string> PitfallNames() => [.. Pitfalls.Keys];

    [Theory]
    [MemberData(nameof(PitfallNames))]
    public async Task Refused_sign_in_names_the_check_and_how_to_fix_it(string pitfall)
    {
        var row = Pitfalls[pitfall];
        var idp = broker.Env.Idp;
        row.Fault(idp);
        try
        {
            var (result, ticket) = await ConnectorRun.OidcAsync(broker.Env.Server, TestConfiguration.Connection);

            Assert.False(result.Succeeded, $"{pitfall}: signed in");
            Assert.Equal(row.Error, result.Error);
            var diagnosis = result.Diagnosis;
            Assert.NotNull(diagnosis);
            Assert.Equal(row.Check, diagnosis.Check);
            var arrangement = new Arrangement(idp, ticket.CallbackUri);
            if (row.Expected is not null)
            {
                Assert.Equal(row.Expected(arrangement), diagnosis.Expected);
            }

            if (row.Received is not null)
            {
                Assert.Equal(row.Received(arrangement), diagnosis.Received);
            }

            if (row.ClockOffset is { } offset)
            {
                Assert.NotNull(diagnosis.ClockOffset);
                Assert.InRange(diagnosis.ClockOffset.Value, offset - TimeSpan.FromSeconds(2), offset + TimeSpan.FromSeconds(2));
                Assert.NotNull(diagnosis.Expected);
                Assert.NotNull(diagnosis.Received);
            }
            else
            {
                Assert.Null(diagnosis.ClockOffset);
            }

            Assert.Contains(row.HintNames(arrangement), diagnosis.Hint, StringComparison.Ordinal);
            Assert.False(string.IsNullOrWhiteSpace(diagnosis.Summary));
            AssertNoSecrets(diagnosis, ticket);
            Assert.Equal([diagnosis], ConnectionTestChecks.Evaluate(result, "oidc"));
        }
        finally
        {
            idp.BehaveAgain();
        }
    }

    public static TheoryData<string, Action<FakeUpstreamIdp>, string[], string?> SignedInRows => new()
    {
        // what would bite, how the IdP is set up, the checks that must be reported, the email_verified received
        { "email released and verified", _ => { }, [], null },
        { "IdP withholds the email scope", idp => idp.WithheldScopes = ["email"], [UpstreamChecks.MissingEmail], null },
        { "email marked unverified", idp => idp.ClaimsEditor = c => c["email_verified"] = false, [UpstreamChecks.UnverifiedEmail], "false" },
        { "email_verified left out", idp => idp.ClaimsEditor = c => c.Remove("email_verified"), [UpstreamChecks.UnverifiedEmail], null },
    };

    [Theory]
    [MemberData(nameof(SignedInRows))]
    public async Task Successful_sign_in_reports_what_would_still_bite(string pitfall, Action<FakeUpstreamIdp> setUp, string[] checks, string? received)
    {
        var idp = broker.Env.Idp;
        setUp(idp);
        try
        {
            var (result, ticket) = await ConnectorRun.OidcAsync(broker.Env.Server, TestConfiguration.Connection);

            Assert.True(result.Succeeded, $"{pitfall}: {result.Error} {result.Description}");
            Assert.Null(result.Diagnosis);
            var diagnoses = ConnectionTestChecks.Evaluate(result, "oidc");
            Assert.Equal(checks, diagnoses.Select(d => d.Check));
            foreach (var diagnosis in diagnoses)
            {
                Assert.Equal(received, diagnosis.Received);
                AssertNoSecrets(diagnosis, ticket);
            }

            if (checks.Contains(UpstreamChecks.MissingEmail))
            {
                var hint = diagnoses.Single().Hint;
                Assert.Contains("scope email", hint, StringComparison.Ordinal);
                Assert.Contains("Scopes", hint, StringComparison.Ordinal);
            }
        }
        finally
        {
            idp.BehaveAgain();
        }
    }

    /// <summary>A diagnosis may name a kid, an audience, an issuer or a URL, never a secret of the sign-in or a token.</summary>
    private static void AssertNoSecrets(UpstreamDiagnosis diagnosis, UpstreamTicket ticket)
    {
        var text = string.Join('\n', diagnosis.Check, diagnosis.Summary, diagnosis.Hint, diagnosis.Expected, diagnosis.Received);
        foreach (var secret in new[] { ticket.State, ticket.Nonce, ticket.CodeVerifier, FakeUpstreamIdp.ClientSecret, "rotated-client-secret-9876543210", "nonce-of-another-sign-in", "eyJ", "upstream-at-" })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
    }
}
