using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Xml;
using Microsoft.Extensions.Time.Testing;
using Tessera.Saml.Tests.Infrastructure;
using static Tessera.Saml.Tests.Infrastructure.TestSamlIdentityProvider;

namespace Tessera.Saml.Tests;

/// <summary>
/// The mistakes an IdP administrator makes when connecting to Tessera, each in a response the test IdP really signed:
/// the rule that refuses it is the one it always was, and the failure now also says what was expected, what came,
/// and for a clock how far off it is.
/// </summary>
public sealed class FailureDetailTests
{
    public sealed record DetailCase(string Rule, Func<string> Response)
    {
        public string? Expected { get; init; }
        public string? Received { get; init; }
        public TimeSpan? ClockOffset { get; init; }
    }

    private const string OtherSp = "https://apps.example/saml/sp";
    private const string OtherAcs = "https://tessera.example/saml/stmarys-old/acs";
    private const string OtherIdp = "https://idp.elsewhere.example/saml";

    /// <summary>What the connection trusts, as an IdP console shows fingerprints (computed here independently of Tessera).</summary>
    private static readonly string TrustedFingerprints = string.Join(", ", new[] { SigningCertificate, SecondSigningCertificate, EcdsaSigningCertificate }.Select(Fingerprint));

    public static readonly Dictionary<string, DetailCase> Cases = new()
    {
        ["audience_left_at_another_sp_entity_id"] = new(SamlRules.Audience, () => SignedAssertion(new SamlResponseSpec { Audience = OtherSp }))
        {
            Expected = SpEntityId,
            Received = OtherSp,
        },
        ["audience_disguised_with_a_bidi_override_is_reported_without_it"] = new(SamlRules.Audience, () => SignedAssertion(new SamlResponseSpec { Audience = "https://apps.example/\u202Eps/lmas\u200B" }))
        {
            Expected = SpEntityId,
            Received = "https://apps.example/ps/lmas",
        },
        ["acs_url_of_another_connection_as_destination"] = new(SamlRules.Destination, () => SignedAssertion(new SamlResponseSpec { Destination = OtherAcs }))
        {
            Expected = AcsUrl,
            Received = OtherAcs,
        },
        ["acs_url_of_another_connection_as_recipient"] = new(SamlRules.Recipient, () => SignedAssertion(new SamlResponseSpec { Recipient = OtherAcs }))
        {
            Expected = AcsUrl,
            Received = OtherAcs,
        },
        ["no_destination_at_all"] = new(SamlRules.Destination, () => SignedAssertion(new SamlResponseSpec { Destination = "" }))
        {
            Expected = AcsUrl,
            Received = null,
        },
        ["issuer_of_another_idp_on_the_response"] = new(SamlRules.Issuer, () => SignedAssertion(new SamlResponseSpec { ResponseIssuer = OtherIdp, AssertionIssuer = OtherIdp }))
        {
            Expected = EntityId,
            Received = OtherIdp,
        },
        ["issuer_of_another_idp_on_the_assertion_only"] = new(SamlRules.Issuer, () => SignedAssertion(new SamlResponseSpec { AssertionIssuer = OtherIdp }))
        {
            Expected = EntityId,
            Received = OtherIdp,
        },
        ["idp_clock_ten_minutes_ahead"] = new(SamlRules.NotYetValid, () => SignedAssertion(new SamlResponseSpec().OnIdpClock(TimeSpan.FromMinutes(10))))
        {
            Expected = Time(SamlResponseSpec.Now),
            Received = Time(SamlResponseSpec.Now.AddMinutes(9)),
            ClockOffset = TimeSpan.FromMinutes(10),
        },
        ["idp_clock_ten_minutes_behind"] = new(SamlRules.SubjectConfirmationExpired, () => SignedAssertion(new SamlResponseSpec().OnIdpClock(TimeSpan.FromMinutes(-10))))
        {
            Expected = Time(SamlResponseSpec.Now),
            Received = Time(SamlResponseSpec.Now.AddMinutes(-5)),
            ClockOffset = TimeSpan.FromMinutes(-10),
        },
        ["signed_with_a_certificate_the_connection_does_not_trust"] = new(SamlRules.SignatureInvalid, () =>
        {
            var document = Build(new SamlResponseSpec());
            Sign(Assertion(document), UnknownCertificate);
            return Encode(document);
        })
        {
            Expected = TrustedFingerprints,
            Received = Fingerprint(UnknownCertificate),
        },
        ["signed_with_an_untrusted_certificate_named_nowhere"] = new(SamlRules.SignatureInvalid, () =>
        {
            var document = Build(new SamlResponseSpec());
            var signature = Sign(Assertion(document), UnknownCertificate);
            signature.RemoveChild(signature.GetElementsByTagName("KeyInfo", SamlNames.XmlDsig)[0]!);
            return Encode(document);
        })
        {
            Expected = TrustedFingerprints,
            Received = null,
        },
        ["untrusted_key_behind_a_key_info_naming_the_trusted_certificate"] = new(SamlRules.SignatureInvalid, () =>
        {
            // KeyInfo is reported as written, never used: naming the trusted certificate does not make the signature verify.
            var document = Build(new SamlResponseSpec());
            var signature = Sign(Assertion(document), UnknownCertificate);
            signature.GetElementsByTagName("X509Certificate", SamlNames.XmlDsig)[0]!.InnerText = Convert.ToBase64String(SigningCertificate.RawData);
            return Encode(document);
        })
        {
            Expected = TrustedFingerprints,
            Received = Fingerprint(SigningCertificate),
        },
        ["signed_with_rsa_sha1_without_the_opt_in"] = new(SamlRules.SignatureAlgorithm, () =>
        {
            var document = Build(new SamlResponseSpec());
            Sign(Assertion(document), signatureMethod: SamlNames.RsaSha1, digestMethod: SamlNames.Sha1);
            return Encode(document);
        })
        {
            Expected = string.Join(", ", SamlNames.RsaSha256, SamlNames.RsaSha384, SamlNames.RsaSha512, SamlNames.EcdsaSha256),
            Received = SamlNames.RsaSha1,
        },
        ["user_not_assigned_to_the_application_at_the_idp"] = new(SamlRules.Status, () => WithStatusMessage(SignedAssertion(new SamlResponseSpec
        {
            Status = "urn:oasis:names:tc:SAML:2.0:status:Responder",
            SecondLevelStatus = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied",
        }), "User is not assigned to this application"))
        {
            Expected = SamlNames.StatusSuccess,
            Received = "urn:oasis:names:tc:SAML:2.0:status:Responder urn:oasis:names:tc:SAML:2.0:status:RequestDenied: User is not assigned to this application",
        },
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Refused_response_says_what_was_expected_and_what_came(string mistake)
    {
        var detail = Cases[mistake];
        var validator = new SamlResponseValidator(new FakeTimeProvider(SamlResponseSpec.Now));

        var result = await validator.ValidateAsync(detail.Response(), Trust(), RequestId, new InMemoryReplayCache(), default);

        Assert.False(result.Succeeded, $"{mistake} was accepted");
        var failure = result.Failure!;
        Assert.Equal(detail.Rule, failure.Rule);
        Assert.Equal(detail.Expected, failure.Expected);
        Assert.Equal(detail.Received, failure.Received);
        if (detail.ClockOffset is { } offset)
        {
            Assert.NotNull(failure.ClockOffset);
            Assert.InRange(failure.ClockOffset.Value, offset - TimeSpan.FromSeconds(2), offset + TimeSpan.FromSeconds(2));
        }
        else
        {
            Assert.Null(failure.ClockOffset);
        }
    }

    [Fact]
    public async Task A_response_signed_with_an_untrusted_certificate_is_refused_however_its_key_info_reads()
    {
        // The report reads KeyInfo; verification never does, whatever certificate KeyInfo names.
        var validator = new SamlResponseValidator(new FakeTimeProvider(SamlResponseSpec.Now));
        var document = Build(new SamlResponseSpec());
        var signature = Sign(Assertion(document), UnknownCertificate);
        var x509Data = (XmlElement)signature.GetElementsByTagName("X509Data", SamlNames.XmlDsig)[0]!;
        foreach (var trusted in new[] { SigningCertificate, SecondSigningCertificate, EcdsaSigningCertificate })
        {
            x509Data.AppendChild(document.CreateElement("ds", "X509Certificate", SamlNames.XmlDsig))!.InnerText = Convert.ToBase64String(trusted.RawData);
        }

        var result = await validator.ValidateAsync(Encode(document), Trust(), RequestId, new InMemoryReplayCache(), default);

        Assert.Equal(SamlRules.SignatureInvalid, result.Failure?.Rule);
        Assert.StartsWith(Fingerprint(UnknownCertificate) + ", ", result.Failure!.Received, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_accepted_response_is_unaffected_by_the_report()
    {
        var validator = new SamlResponseValidator(new FakeTimeProvider(SamlResponseSpec.Now));

        var result = await validator.ValidateAsync(SignedAssertion(new SamlResponseSpec().OnIdpClock(TimeSpan.FromSeconds(50))), Trust(), RequestId, new InMemoryReplayCache(), default);

        Assert.True(result.Succeeded, result.Failure?.ToString());
    }

    private static string Fingerprint(X509Certificate2 certificate) => BitConverter.ToString(SHA256.HashData(certificate.RawData)).Replace('-', ':');

    private static string WithStatusMessage(string encoded, string message)
    {
        var document = new XmlDocument { PreserveWhitespace = true };
        document.LoadXml(System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(encoded)));
        var status = (XmlElement)document.GetElementsByTagName("Status", SamlNames.Protocol)[0]!;
        status.AppendChild(document.CreateElement("samlp", "StatusMessage", SamlNames.Protocol))!.InnerText = message;
        return Encode(document);
    }
}
