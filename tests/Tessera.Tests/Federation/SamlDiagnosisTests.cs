using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Xml;
using Tessera.Federation;
using Tessera.Saml;
using Tessera.Saml.Tests.Infrastructure;
using Tessera.Tests.Infrastructure;
using static Tessera.Saml.Tests.Infrastructure.TestSamlIdentityProvider;

namespace Tessera.Tests.Federation;

/// <summary>One host with St Mary's behind the test SAML IdP, shared by the rows of a table.</summary>
public sealed class SharedSamlSignIn : IAsyncLifetime
{
    public SamlSignIn Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await SamlSignIn.StartAsync();

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

/// <summary>
/// A connection test against a SAML IdP that was set up wrong, one pitfall per row, each Response really signed: the
/// connector refuses it by the same rule as before, and its diagnosis names the check, the SAML field the IdP admin
/// edits and the value it must hold. A sign-in that works but sends no email is caught by <see cref="ConnectionTestChecks"/>.
/// </summary>
public sealed class SamlDiagnosisTests(SharedSamlSignIn shared) : IClassFixture<SharedSamlSignIn>
{
    private const string OtherSp = "https://apps.example/saml/sp";
    private const string OtherAcs = "https://tessera.example/saml/stmarys-old/acs";
    private const string OtherIdp = "https://idp.elsewhere.example/saml";

    /// <summary>What a row expects of the diagnosis; a value left null is not checked.</summary>
    public sealed record Pitfall(Func<SamlResponseSpec, string> Respond, string Error, string Check)
    {
        public string? Expected { get; init; }
        public string? Received { get; init; }
        public TimeSpan? ClockOffset { get; init; }

        /// <summary>Words the hint must contain: the field to edit and the value it must hold.</summary>
        public string[] HintNames { get; init; } = [];
    }

    public static readonly Dictionary<string, Pitfall> Pitfalls = new()
    {
        ["Audience URI left at another SP entity ID"] = new(spec => SignedAssertion(spec with { Audience = OtherSp }), SamlRules.Audience, UpstreamChecks.Audience)
        {
            Expected = SamlSignIn.SpEntityId,
            Received = OtherSp,
            HintNames = ["Audience URI (SP Entity ID)", SamlSignIn.SpEntityId],
        },
        ["ACS URL of another connection"] = new(spec => SignedAssertion(spec with { Destination = OtherAcs, Recipient = OtherAcs }), SamlRules.Destination, UpstreamChecks.Destination)
        {
            Expected = SamlSignIn.AcsUrl,
            Received = OtherAcs,
            HintNames = ["ACS URL", "Single sign-on URL", SamlSignIn.AcsUrl],
        },
        ["Recipient of another connection"] = new(spec => SignedAssertion(spec with { Recipient = OtherAcs }), SamlRules.Recipient, UpstreamChecks.Destination)
        {
            Expected = SamlSignIn.AcsUrl,
            Received = OtherAcs,
            HintNames = ["ACS URL", SamlSignIn.AcsUrl],
        },
        ["IdP entity ID changed"] = new(spec => SignedAssertion(spec with { ResponseIssuer = OtherIdp, AssertionIssuer = OtherIdp }), SamlRules.Issuer, UpstreamChecks.Issuer)
        {
            Expected = EntityId,
            Received = OtherIdp,
            HintNames = ["metadata", EntityId],
        },
        ["IdP clock ten minutes ahead"] = new(spec => SignedAssertion(spec.OnIdpClock(TimeSpan.FromMinutes(10))), SamlRules.NotYetValid, UpstreamChecks.ClockSkew)
        {
            Expected = Time(SamlResponseSpec.Now),
            Received = Time(SamlResponseSpec.Now.AddMinutes(9)),
            ClockOffset = TimeSpan.FromMinutes(10),
            HintNames = ["NTP"],
        },
        ["IdP clock ten minutes behind"] = new(spec => SignedAssertion(spec.OnIdpClock(TimeSpan.FromMinutes(-10))), SamlRules.SubjectConfirmationExpired, UpstreamChecks.ClockSkew)
        {
            ClockOffset = TimeSpan.FromMinutes(-10),
            HintNames = ["NTP"],
        },
        ["assertions issued already expired by an IdP whose clock is right"] = new(spec => SignedAssertion(spec with { NotOnOrAfter = SamlResponseSpec.Now.AddMinutes(-2) }), SamlRules.Expired, UpstreamChecks.TokenLifetime)
        {
            Received = Time(SamlResponseSpec.Now.AddMinutes(-2)),
            ClockOffset = TimeSpan.Zero,
            HintNames = ["validity period"],
        },
        ["IdP signing certificate rolled over without telling Tessera"] = new(spec => Signed(spec, UnknownCertificate), SamlRules.SignatureInvalid, UpstreamChecks.SigningCertificate)
        {
            Expected = Fingerprint(SigningCertificate),
            Received = Fingerprint(UnknownCertificate),
            HintNames = ["Certificates", Fingerprint(UnknownCertificate)],
        },
        ["Response rewritten after it was signed"] = new(spec => Rewritten(spec), SamlRules.SignatureInvalid, UpstreamChecks.Signature)
        {
            Expected = null,
            Received = null,
        },
        ["assertion left unsigned, only the Response signed"] = new(spec => ResponseSignedOnly(spec), SamlRules.SignatureMissing, UpstreamChecks.Signature)
        {
            HintNames = ["sign the assertion"],
        },
        ["user not assigned to the application"] = new(spec => SignedAssertion(spec with
        {
            Status = "urn:oasis:names:tc:SAML:2.0:status:Responder",
            SecondLevelStatus = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied",
        }), SamlRules.Status, UpstreamChecks.UpstreamError)
        {
            Received = "urn:oasis:names:tc:SAML:2.0:status:Responder urn:oasis:names:tc:SAML:2.0:status:RequestDenied",
            HintNames = ["assigned"],
        },
        ["transient NameID and no SubjectAttribute"] = new(spec => SignedAssertion(spec with { NameIdFormat = SamlNames.NameIdTransient }), "transient_name_id", UpstreamChecks.Subject)
        {
            HintNames = ["persistent", "SubjectAttribute"],
        },
    };

    public static TheoryData<string> PitfallNames() => [.. Pitfalls.Keys];

    [Theory]
    [MemberData(nameof(PitfallNames))]
    public async Task Refused_response_names_the_check_and_the_field_to_fix(string pitfall)
    {
        var row = Pitfalls[pitfall];
        var requestId = "_diagnosis-" + Guid.NewGuid().ToString("N");

        var result = await ConnectorRun.SamlAsync(shared.Host.Server, SamlSignIn.ConnectionId, row.Respond(SamlSignIn.Spec(requestId)), requestId);

        Assert.False(result.Succeeded, $"{pitfall}: signed in");
        Assert.Equal(row.Error, result.Error);
        var diagnosis = result.Diagnosis;
        Assert.NotNull(diagnosis);
        Assert.Equal(row.Check, diagnosis.Check);
        if (row.Expected is not null || row.Check is UpstreamChecks.Signature)
        {
            Assert.Equal(row.Expected, diagnosis.Expected);
        }

        if (row.Received is not null || row.Check is UpstreamChecks.Signature)
        {
            Assert.Equal(row.Received, diagnosis.Received);
        }

        if (row.ClockOffset is { } offset)
        {
            Assert.NotNull(diagnosis.ClockOffset);
            Assert.InRange(diagnosis.ClockOffset.Value, offset - TimeSpan.FromSeconds(2), offset + TimeSpan.FromSeconds(2));
        }
        else
        {
            Assert.Null(diagnosis.ClockOffset);
        }

        foreach (var name in row.HintNames)
        {
            Assert.Contains(name, diagnosis.Hint, StringComparison.Ordinal);
        }

        Assert.False(string.IsNullOrWhiteSpace(diagnosis.Summary));
        Assert.DoesNotContain(requestId, string.Join('\n', diagnosis.Summary, diagnosis.Hint, diagnosis.Expected, diagnosis.Received), StringComparison.Ordinal);
        Assert.Equal([diagnosis], ConnectionTestChecks.Evaluate(result, "saml2"));
    }

    public static TheoryData<string, (string Name, string Value)[], string[]> SignedInRows => new()
    {
        // what the IdP releases, the attributes it sends, the checks that must be reported
        { "email attribute released", [("Role", "doctor"), ("email", "ana@stmarys.example")], [] },
        { "email under the WS-Federation claim URI", [("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "ana@stmarys.example")], [] },
        { "email under its LDAP OID", [("urn:oid:0.9.2342.19200300.100.1.3", "ana@stmarys.example")], [] },
        { "no email attribute at all", [("Role", "doctor"), ("ProviderID", "P-123")], [UpstreamChecks.MissingEmail] },
        { "email under a name Tessera does not read", [("Role", "doctor"), ("userEmail", "ana@stmarys.example")], [UpstreamChecks.MissingEmail] },
    };

    [Theory]
    [MemberData(nameof(SignedInRows))]
    public async Task Successful_sign_in_reports_a_missing_email_with_the_attribute_names_tessera_reads(string pitfall, (string Name, string Value)[] attributes, string[] checks)
    {
        var requestId = "_diagnosis-" + Guid.NewGuid().ToString("N");

        var result = await ConnectorRun.SamlAsync(shared.Host.Server, SamlSignIn.ConnectionId, SignedAssertion(SamlSignIn.Spec(requestId) with { Attributes = attributes }), requestId);

        Assert.True(result.Succeeded, $"{pitfall}: {result.Error} {result.Description}");
        var diagnoses = ConnectionTestChecks.Evaluate(result, "saml2");
        Assert.Equal(checks, diagnoses.Select(d => d.Check));
        if (checks.Length > 0)
        {
            var missing = diagnoses.Single();
            foreach (var name in new[] { "email", "mail", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "urn:oid:0.9.2342.19200300.100.1.3", "AttributeClaims" })
            {
                Assert.Contains(name, missing.Hint, StringComparison.Ordinal);
            }

            Assert.Equal(string.Join(", ", attributes.Select(a => a.Name).Order(StringComparer.Ordinal)), missing.Received);
            Assert.DoesNotContain("ana@stmarys.example", missing.Received ?? "", StringComparison.Ordinal);
        }
    }

    private static string Fingerprint(X509Certificate2 certificate) => BitConverter.ToString(SHA256.HashData(certificate.RawData)).Replace('-', ':');

    private static string Signed(SamlResponseSpec spec, X509Certificate2 certificate)
    {
        var document = Build(spec);
        Sign(Assertion(document), certificate);
        return Encode(document);
    }

    private static string Rewritten(SamlResponseSpec spec)
    {
        var document = Build(spec);
        Sign(Assertion(document));
        ((XmlElement)document.GetElementsByTagName("NameID", SamlNames.Assertion)[0]!).InnerText = "u-0001";
        return Encode(document);
    }

    private static string ResponseSignedOnly(SamlResponseSpec spec)
    {
        var document = Build(spec);
        Sign(Response(document));
        return Encode(document);
    }
}
