using Microsoft.Extensions.Time.Testing;
using Tessera.Saml.Tests.Infrastructure;
using static Tessera.Saml.Tests.Infrastructure.TestSamlIdentityProvider;

namespace Tessera.Saml.Tests;

public sealed class ResponseValidatorTests
{
    private readonly SamlResponseValidator _validator = new(new FakeTimeProvider(SamlResponseSpec.Now));

    private Task<SamlResult> Validate(string value, SamlPolicy? policy = null, string? expected = RequestId) =>
        _validator.ValidateAsync(value, Trust(policy), expected, new InMemoryReplayCache(), default).AsTask();

    [Fact]
    public async Task Signed_assertion_yields_subject_attributes_and_session()
    {
        var result = await Validate(SignedAssertion());

        Assert.True(result.Succeeded, result.Failure?.ToString());
        var assertion = result.Assertion!;
        Assert.Equal("u-4711", assertion.NameId);
        Assert.Equal(SamlNames.NameIdPersistent, assertion.NameIdFormat);
        Assert.Equal(EntityId, assertion.Issuer);
        Assert.Equal(["doctor", "staff"], assertion.Attributes["Role"]);
        Assert.Equal(["P-123"], assertion.Attributes["ProviderID"]);
        Assert.Equal("_s1", assertion.SessionIndex);
        Assert.Equal(SamlResponseSpec.Now.AddHours(8), assertion.SessionNotOnOrAfter);
        Assert.Equal(SamlResponseSpec.Now.AddSeconds(-5), assertion.AuthnInstant);
        Assert.Equal("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport", assertion.AuthnContextClassRef);
        Assert.Equal(RequestId, assertion.InResponseTo);
        Assert.False(assertion.WasEncrypted);
    }

    [Fact]
    public async Task Signed_response_alone_is_enough_when_the_connection_allows_it()
    {
        var document = Build(new SamlResponseSpec());
        Sign(Response(document));

        Assert.True((await Validate(Encode(document), new SamlPolicy { RequireSignedAssertions = false })).Succeeded);
        Assert.Equal(SamlRules.SignatureMissing, (await Validate(Encode(document))).Failure!.Rule);
    }

    [Fact]
    public async Task Response_and_assertion_both_signed_are_accepted()
    {
        var document = Build(new SamlResponseSpec());
        Sign(Assertion(document));
        Sign(Response(document));

        var result = await Validate(Encode(document));

        Assert.True(result.Succeeded, result.Failure?.ToString());
    }

    [Theory]
    [InlineData(SamlNames.Aes256Gcm)]
    [InlineData(SamlNames.Aes128Gcm)]
    [InlineData(SamlNames.Aes256Cbc)]
    [InlineData(SamlNames.Aes128Cbc)]
    public async Task Encrypted_assertion_is_decrypted_then_checked_like_any_other(string contentAlgorithm)
    {
        var document = Build(new SamlResponseSpec());
        Sign(Assertion(document));
        Encrypt(document, contentAlgorithm);

        var result = await Validate(Encode(document));

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.True(result.Assertion!.WasEncrypted);
        Assert.Equal("u-4711", result.Assertion.NameId);
    }

    [Fact]
    public async Task Encrypted_assertion_still_needs_its_own_signature_by_default()
    {
        var document = Build(new SamlResponseSpec());
        Encrypt(document);

        Assert.Equal(SamlRules.SignatureMissing, (await Validate(Encode(document))).Failure!.Rule);
    }

    [Fact]
    public async Task Second_certificate_from_a_rollover_verifies()
    {
        var document = Build(new SamlResponseSpec());
        Sign(Assertion(document), SecondSigningCertificate);

        Assert.True((await Validate(Encode(document))).Succeeded);
    }

    [Theory]
    [InlineData(SamlNames.RsaSha384, SamlNames.Sha384)]
    [InlineData(SamlNames.RsaSha512, SamlNames.Sha512)]
    public async Task Stronger_rsa_algorithms_are_accepted_by_default(string signature, string digest)
    {
        var document = Build(new SamlResponseSpec());
        Sign(Assertion(document), signatureMethod: signature, digestMethod: digest);

        Assert.True((await Validate(Encode(document))).Succeeded);
    }

    [Fact]
    public async Task Signature_with_an_inclusive_namespace_prefix_list_verifies()
    {
        var document = Build(new SamlResponseSpec());
        Sign(Assertion(document), inclusivePrefixes: "saml samlp");

        var result = await Validate(Encode(document));

        Assert.True(result.Succeeded, result.Failure?.ToString());
    }

    [Fact]
    public async Task A_foreign_parameter_on_the_enveloped_transform_is_ignored_and_an_xpath_one_refused()
    {
        // As xml-crypto writes it: its PrefixList also inside the enveloped-signature transform.
        var document = Build(new SamlResponseSpec());
        var signature = Sign(Assertion(document));
        var enveloped = (System.Xml.XmlElement)signature.GetElementsByTagName("Transform", SamlNames.XmlDsig)[0]!;
        var parameter = document.CreateElement("InclusiveNamespaces", SamlNames.EnvelopedSignature);
        parameter.SetAttribute("PrefixList", "xs");
        enveloped.AppendChild(parameter);
        Resign(signature);
        var xpath = Build(new SamlResponseSpec());
        var xpathSignature = Sign(Assertion(xpath));
        var xpathTransform = (System.Xml.XmlElement)xpathSignature.GetElementsByTagName("Transform", SamlNames.XmlDsig)[0]!;
        xpathTransform.AppendChild(xpath.CreateElement("ds", "XPath", SamlNames.XmlDsig))!.InnerText = "not(ancestor-or-self::ds:Signature)";
        Resign(xpathSignature);

        var accepted = await Validate(Encode(document));
        var refused = await Validate(Encode(xpath));

        Assert.True(accepted.Succeeded, accepted.Failure?.ToString());
        Assert.Equal(SamlRules.SignatureTransform, refused.Failure!.Rule);
    }

    /// <summary>Signs SignedInfo again after a test changed it (the digest of the assertion does not change).</summary>
    private static void Resign(System.Xml.XmlElement signature)
    {
        var signedInfo = (System.Xml.XmlElement)signature.GetElementsByTagName("SignedInfo", SamlNames.XmlDsig)[0]!;
        using var key = System.Security.Cryptography.X509Certificates.RSACertificateExtensions.GetRSAPrivateKey(SigningCertificate)!;
        var value = key.SignData(ExclusiveCanonicalizer.Canonicalize(signedInfo), System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        signature.GetElementsByTagName("SignatureValue", SamlNames.XmlDsig)[0]!.InnerText = Convert.ToBase64String(value);
    }

    [Fact]
    public async Task Ecdsa_sha256_is_accepted_by_default()
    {
        var document = Build(new SamlResponseSpec());
        Sign(Assertion(document), EcdsaSigningCertificate, SamlNames.EcdsaSha256);

        var result = await Validate(Encode(document));

        Assert.True(result.Succeeded, result.Failure?.ToString());
    }

    [Fact]
    public async Task Sha1_is_accepted_only_with_the_opt_in()
    {
        var document = Build(new SamlResponseSpec());
        Sign(Assertion(document), signatureMethod: SamlNames.RsaSha1, digestMethod: SamlNames.Sha1);
        var optIn = new SamlPolicy { AllowSha1 = true, AllowedAlgorithms = ["RSA-SHA256", "RSA-SHA1"] };

        Assert.True((await Validate(Encode(document), optIn)).Succeeded);
        Assert.Equal(SamlRules.SignatureAlgorithm, (await Validate(Encode(document))).Failure!.Rule);
    }

    [Fact]
    public async Task Unsolicited_response_is_accepted_only_when_the_connection_opts_in()
    {
        var value = SignedAssertion(new SamlResponseSpec { InResponseTo = null });

        Assert.True((await Validate(value, new SamlPolicy { AllowUnsolicited = true }, expected: null)).Succeeded);
        Assert.Equal(SamlRules.Unsolicited, (await Validate(value, expected: null)).Failure!.Rule);
    }

    [Fact]
    public async Task Clock_skew_tolerates_a_minute_by_default_and_no_more()
    {
        var justExpired = SignedAssertion(new SamlResponseSpec { NotOnOrAfter = SamlResponseSpec.Now.AddSeconds(-30) });
        var longExpired = SignedAssertion(new SamlResponseSpec { NotOnOrAfter = SamlResponseSpec.Now.AddSeconds(-61) });

        Assert.True((await Validate(justExpired)).Succeeded);
        Assert.Equal(SamlRules.Expired, (await Validate(longExpired)).Failure!.Rule);
        Assert.True((await Validate(longExpired, new SamlPolicy { ClockSkew = TimeSpan.FromMinutes(2) })).Succeeded);
    }

    [Fact]
    public async Task Times_with_fractional_seconds_are_read()
    {
        var document = Build(new SamlResponseSpec());
        var conditions = (System.Xml.XmlElement)document.GetElementsByTagName("Conditions", SamlNames.Assertion)[0]!;
        conditions.SetAttribute("NotOnOrAfter", SamlResponseSpec.Now.AddMinutes(3).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
        Sign(Assertion(document));

        var result = await Validate(Encode(document));

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal(SamlResponseSpec.Now.AddMinutes(3), result.Assertion!.NotOnOrAfter);
    }

    [Fact]
    public async Task Replay_cache_entry_lives_until_the_assertion_expires_plus_skew()
    {
        var cache = new RecordingReplayCache();
        await _validator.ValidateAsync(SignedAssertion(new SamlResponseSpec { NotOnOrAfter = SamlResponseSpec.Now.AddMinutes(3) }), Trust(), RequestId, cache, default);

        Assert.Equal(SamlResponseSpec.Now.AddMinutes(3).AddSeconds(60), cache.ExpiresAt);
    }

    [Fact]
    public async Task A_failed_response_is_never_recorded_as_seen()
    {
        var cache = new RecordingReplayCache();
        var result = await _validator.ValidateAsync(SignedAssertion(new SamlResponseSpec { Audience = "https://other.example" }), Trust(), RequestId, cache, default);

        Assert.Equal(SamlRules.Audience, result.Failure?.Rule);
        Assert.Null(cache.ExpiresAt);
    }

    private sealed class RecordingReplayCache : ISamlReplayCache
    {
        public DateTimeOffset? ExpiresAt { get; private set; }

        public ValueTask<bool> TryRecordAsync(string issuer, string assertionId, DateTimeOffset expiresAt, CancellationToken cancellationToken)
        {
            ExpiresAt = expiresAt;
            return ValueTask.FromResult(true);
        }
    }
}
