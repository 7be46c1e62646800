using System.Xml;
using Microsoft.Extensions.Time.Testing;
using Tessera.Saml.Tests.Infrastructure;
using static Tessera.Saml.Tests.Infrastructure.TestSamlIdentityProvider;

namespace Tessera.Saml.Tests;

/// <summary>
/// Hostile SAML Responses, one row per attack, each expecting the rule that must stop it. Every row starts from a
/// response a real IdP key signed, then does what an attacker can do with it (or crafts one from nothing).
/// </summary>
public sealed class HostileResponseTests
{
    public sealed record HostileCase(string Rule, Func<string> Value)
    {
        public SamlPolicy Policy { get; init; } = new();
        public string? ExpectedRequestId { get; init; } = RequestId;

        /// <summary>The value is presented once successfully before the hostile presentation (a replay).</summary>
        public bool PresentedBefore { get; init; }
    }

    private static readonly SamlPolicy ResponseSignatureSuffices = new() { RequireSignedAssertions = false };

    public static readonly Dictionary<string, HostileCase> Cases = new()
    {
        // Signature wrapping (XSW): the signed assertion stays somewhere, an evil one is what a careless SP reads.
        ["xsw_signed_assertion_moved_into_extensions_evil_one_in_its_place"] = new(SamlRules.AssertionCount, () => Mutate(Signed(), d =>
        {
            var signed = Assertion(d);
            var evil = Evil(signed);
            signed.ParentNode!.ReplaceChild(evil, signed);
            Extensions(d).AppendChild(signed);
        })),
        ["xsw_extra_unsigned_assertion_before_the_signed_one"] = new(SamlRules.AssertionCount, () => Mutate(Signed(), d =>
        {
            var signed = Assertion(d);
            Response(d).InsertBefore(Evil(signed), signed);
        })),
        ["xsw_extra_unsigned_assertion_after_the_signed_one"] = new(SamlRules.AssertionCount, () => Mutate(Signed(), d =>
        {
            var signed = Assertion(d);
            Response(d).InsertAfter(Evil(signed), signed);
        })),
        ["xsw_evil_assertion_inside_signature_object"] = new(SamlRules.AssertionCount, () => Mutate(Signed(), d =>
        {
            var signature = (XmlElement)Assertion(d).GetElementsByTagName("Signature", SamlNames.XmlDsig)[0]!;
            var obj = d.CreateElement("ds", "Object", SamlNames.XmlDsig);
            obj.AppendChild(Evil(Assertion(d)));
            signature.AppendChild(obj);
        })),
        ["xsw_signed_assertion_inside_evil_assertion"] = new(SamlRules.AssertionCount, () => Mutate(Signed(), d =>
        {
            var signed = Assertion(d);
            var evil = Evil(signed);
            signed.ParentNode!.ReplaceChild(evil, signed);
            evil.AppendChild(signed);
        })),
        ["xsw_signed_response_wrapped_in_evil_response"] = new(SamlRules.AssertionCount, () =>
        {
            var document = Build(new SamlResponseSpec());
            Sign(Response(document));
            var outer = Build(new SamlResponseSpec { NameIdXml = "admin@stmarys.example" });
            Sign(Assertion(outer), UnknownCertificate);
            Extensions(outer).AppendChild(outer.ImportNode(Response(document), true));
            return Encode(outer);
        })
        { Policy = ResponseSignatureSuffices },
        ["xsw_evil_assertion_in_signed_response_extensions"] = new(SamlRules.AssertionCount, () =>
        {
            var document = Build(new SamlResponseSpec());
            Extensions(document).AppendChild(Evil(Assertion(document)));
            Sign(Response(document));
            return Encode(document);
        })
        { Policy = ResponseSignatureSuffices },
        ["xsw_assertion_signature_moved_to_the_response"] = new(SamlRules.SignatureReference, () => Mutate(Signed(), d =>
        {
            var signature = (XmlElement)Assertion(d).GetElementsByTagName("Signature", SamlNames.XmlDsig)[0]!;
            signature.ParentNode!.RemoveChild(signature);
            Response(d).InsertAfter(signature, Response(d).GetElementsByTagName("Issuer", SamlNames.Assertion)[0]);
        })),
        ["xsw_duplicate_id_on_another_element"] = new(SamlRules.DuplicateId, () => Mutate(Signed(), d =>
        {
            var decoy = d.CreateElement("samlp", "Decoy", SamlNames.Protocol);
            decoy.SetAttribute("ID", Assertion(d).GetAttribute("ID"));
            Extensions(d).AppendChild(decoy);
        })),
        ["xsw_response_and_assertion_share_an_id"] = new(SamlRules.DuplicateId, () =>
        {
            var document = Build(new SamlResponseSpec { ResponseId = "_same", AssertionId = "_same" });
            Sign(Assertion(document));
            return Encode(document);
        }),
        ["signed_content_altered_after_signing"] = new(SamlRules.SignatureInvalid, () => Mutate(Signed(), d =>
            NameId(d).InnerText = "admin@stmarys.example")),
        ["signature_references_another_element"] = new(SamlRules.SignatureReference, () =>
        {
            var document = Build(new SamlResponseSpec());
            Sign(Assertion(document), referenceUri: "#" + Response(document).GetAttribute("ID"));
            return Encode(document);
        }),
        ["signature_references_the_whole_document"] = new(SamlRules.SignatureReference, () =>
        {
            var document = Build(new SamlResponseSpec());
            Sign(Assertion(document), referenceUri: "");
            return Encode(document);
        }),
        ["two_signatures_on_the_assertion"] = new(SamlRules.SignatureInvalid, () =>
        {
            var document = Build(new SamlResponseSpec());
            Sign(Assertion(document));
            Sign(Assertion(document), UnknownCertificate);
            return Encode(document);
        }),
        ["inclusive_canonicalization"] = new(SamlRules.SignatureTransform, () =>
        {
            var document = Build(new SamlResponseSpec());
            Sign(Assertion(document), canonicalization: "http://www.w3.org/TR/2001/REC-xml-c14n-20010315");
            return Encode(document);
        }),
        ["signature_without_enveloped_transform"] = new(SamlRules.SignatureTransform, () =>
        {
            var document = Build(new SamlResponseSpec());
            Sign(Assertion(document), envelopedTransform: false);
            return Encode(document);
        }),

        // Trust.
        ["unsigned_assertion_unsigned_response"] = new(SamlRules.SignatureMissing, () => Encode(Build(new SamlResponseSpec()))),
        ["unsigned_assertion_in_signed_response_when_assertions_must_be_signed"] = new(SamlRules.SignatureMissing, () =>
        {
            var document = Build(new SamlResponseSpec());
            Sign(Response(document));
            return Encode(document);
        }),
        ["assertion_signed_by_unknown_certificate"] = new(SamlRules.SignatureInvalid, () =>
        {
            var document = Build(new SamlResponseSpec());
            Sign(Assertion(document), UnknownCertificate);
            return Encode(document);
        }),
        ["response_signed_by_unknown_certificate"] = new(SamlRules.SignatureInvalid, () =>
        {
            var document = Build(new SamlResponseSpec());
            Sign(Assertion(document));
            Sign(Response(document), UnknownCertificate);
            return Encode(document);
        }),
        ["rsa_sha1_signature_without_opt_in"] = new(SamlRules.SignatureAlgorithm, () =>
        {
            var document = Build(new SamlResponseSpec());
            Sign(Assertion(document), signatureMethod: SamlNames.RsaSha1, digestMethod: SamlNames.Sha1);
            return Encode(document);
        }),
        ["sha1_digest_without_opt_in"] = new(SamlRules.DigestAlgorithm, () =>
        {
            var document = Build(new SamlResponseSpec());
            Sign(Assertion(document), digestMethod: SamlNames.Sha1);
            return Encode(document);
        }),
        ["ecdsa_signature_when_the_connection_allows_only_rsa"] = new(SamlRules.SignatureAlgorithm, () =>
        {
            var document = Build(new SamlResponseSpec());
            Sign(Assertion(document), EcdsaSigningCertificate, SamlNames.EcdsaSha256);
            return Encode(document);
        })
        { Policy = new SamlPolicy { AllowedAlgorithms = ["RSA-SHA256"] } },
        ["rsa_1_5_key_transport"] = new(SamlRules.Decryption, () =>
        {
            var document = Build(new SamlResponseSpec());
            Sign(Assertion(document));
            Encrypt(document, keyTransport: SamlNames.Rsa15);
            return Encode(document);
        }),
        ["assertion_encrypted_to_another_key"] = new(SamlRules.Decryption, () =>
        {
            var document = Build(new SamlResponseSpec());
            Sign(Assertion(document));
            Encrypt(document, recipient: UnknownCertificate);
            return Encode(document);
        }),

        // Addressing and time.
        ["expired_assertion"] = new(SamlRules.Expired, () => SignedAssertion(new SamlResponseSpec { NotOnOrAfter = SamlResponseSpec.Now.AddMinutes(-2) })),
        ["assertion_not_yet_valid"] = new(SamlRules.NotYetValid, () => SignedAssertion(new SamlResponseSpec { NotBefore = SamlResponseSpec.Now.AddMinutes(2) })),
        ["bearer_confirmation_expired"] = new(SamlRules.SubjectConfirmationExpired, () => SignedAssertion(new SamlResponseSpec { ConfirmationNotOnOrAfter = SamlResponseSpec.Now.AddMinutes(-2) })),
        ["idp_session_already_over"] = new(SamlRules.SessionExpired, () => SignedAssertion(new SamlResponseSpec { SessionNotOnOrAfter = SamlResponseSpec.Now.AddMinutes(-2) })),
        ["wrong_audience"] = new(SamlRules.Audience, () => SignedAssertion(new SamlResponseSpec { Audience = "https://other-sp.example" })),
        ["wrong_recipient"] = new(SamlRules.Recipient, () => SignedAssertion(new SamlResponseSpec { Recipient = "https://other-sp.example/acs" })),
        ["wrong_destination"] = new(SamlRules.Destination, () => SignedAssertion(new SamlResponseSpec { Destination = "https://other-sp.example/acs" })),
        ["wrong_assertion_issuer"] = new(SamlRules.Issuer, () => SignedAssertion(new SamlResponseSpec { AssertionIssuer = "https://evil-idp.example" })),
        ["wrong_response_issuer"] = new(SamlRules.Issuer, () => SignedAssertion(new SamlResponseSpec { ResponseIssuer = "https://evil-idp.example" })),

        ["time_that_is_not_utc_xs_datetime"] = new(SamlRules.Malformed, () => Mutate(Build(new SamlResponseSpec()), d =>
        {
            ((XmlElement)d.GetElementsByTagName("Conditions", SamlNames.Assertion)[0]!).SetAttribute("NotOnOrAfter", "11/26/2030 12:00");
            Sign(Assertion(d));
        })),
        ["time_with_a_local_offset"] = new(SamlRules.Malformed, () => Mutate(Build(new SamlResponseSpec()), d =>
        {
            ((XmlElement)d.GetElementsByTagName("Conditions", SamlNames.Assertion)[0]!).SetAttribute("NotOnOrAfter", "2030-11-26T12:00:00+05:00");
            Sign(Assertion(d));
        })),
        ["unreadable_not_before_on_the_bearer_confirmation"] = new(SamlRules.Malformed, () => Mutate(Build(new SamlResponseSpec()), d =>
        {
            ((XmlElement)d.GetElementsByTagName("SubjectConfirmationData", SamlNames.Assertion)[0]!).SetAttribute("NotBefore", "soon");
            Sign(Assertion(d));
        })),

        // Request binding and replay.
        ["replayed_assertion"] = new(SamlRules.Replay, () => CachedSigned) { PresentedBefore = true },
        ["unknown_in_response_to"] = new(SamlRules.InResponseTo, () => SignedAssertion(new SamlResponseSpec { InResponseTo = "_never-sent" })),
        ["reused_in_response_to_after_the_request_was_consumed"] = new(SamlRules.InResponseTo, () => SignedAssertion()) { ExpectedRequestId = null },
        ["unsolicited_response"] = new(SamlRules.Unsolicited, () => SignedAssertion(new SamlResponseSpec { InResponseTo = null })) { ExpectedRequestId = null },
        ["subject_confirmation_answers_another_request"] = new(SamlRules.InResponseTo, () => Mutate(Build(new SamlResponseSpec()), d =>
        {
            ((XmlElement)d.GetElementsByTagName("SubjectConfirmationData", SamlNames.Assertion)[0]!).SetAttribute("InResponseTo", "_other");
            Sign(Assertion(d));
        })),

        // Parsing.
        ["xxe_external_entity"] = new(SamlRules.Dtd, () => Encode(
            "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>" +
            $"<samlp:Response xmlns:samlp=\"{SamlNames.Protocol}\" ID=\"_x\" Version=\"2.0\">&xxe;</samlp:Response>")),
        ["billion_laughs"] = new(SamlRules.Dtd, () => Encode(
            "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">" +
            "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\"><!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">]>" +
            $"<samlp:Response xmlns:samlp=\"{SamlNames.Protocol}\" ID=\"_x\" Version=\"2.0\">&lol4;</samlp:Response>")),
        ["oversized_document"] = new(SamlRules.Size, () => SignedAssertion(new SamlResponseSpec
        {
            Attributes = [("Padding", new string('x', 300 * 1024))],
        })),
        ["oversized_after_decoding_small_limit"] = new(SamlRules.Size, () => SignedAssertion()) { Policy = new SamlPolicy { MaxResponseBytes = 2048 } },
        ["malformed_base64"] = new(SamlRules.Base64, () => "PHNhbWxwOlJlc3BvbnNl!!!not-base64"),
        ["not_well_formed_xml"] = new(SamlRules.Malformed, () => Encode("<samlp:Response xmlns:samlp=\"" + SamlNames.Protocol + "\"><unclosed></samlp:Response>")),
        ["not_a_response"] = new(SamlRules.NotAResponse, () => Encode($"<samlp:LogoutResponse xmlns:samlp=\"{SamlNames.Protocol}\" ID=\"_l\" Version=\"2.0\"/>")),
        ["saml_1_1_version"] = new(SamlRules.Version, () => Mutate(Signed(), d => Response(d).SetAttribute("Version", "1.1"))),

        // Content.
        ["responder_status"] = new(SamlRules.Status, () => SignedAssertion(new SamlResponseSpec
        {
            Status = "urn:oasis:names:tc:SAML:2.0:status:Responder",
            SecondLevelStatus = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed",
        })),
        ["no_assertion_at_all"] = new(SamlRules.AssertionCount, () => Mutate(Build(new SamlResponseSpec()), d => Response(d).RemoveChild(Assertion(d)))),
        ["markup_inside_name_id"] = new(SamlRules.Subject, () => SignedAssertion(new SamlResponseSpec { NameIdXml = "admin<saml:x>@</saml:x>x.com" })),
        ["no_authn_statement"] = new(SamlRules.AuthnStatement, () => Mutate(Build(new SamlResponseSpec()), d =>
        {
            var statement = Assertion(d).GetElementsByTagName("AuthnStatement", SamlNames.Assertion)[0]!;
            statement.ParentNode!.RemoveChild(statement);
            Sign(Assertion(d));
        })),
        ["no_audience_restriction"] = new(SamlRules.Audience, () => Mutate(Build(new SamlResponseSpec()), d =>
        {
            var restriction = Assertion(d).GetElementsByTagName("AudienceRestriction", SamlNames.Assertion)[0]!;
            restriction.ParentNode!.RemoveChild(restriction);
            Sign(Assertion(d));
        })),
    };

    private static readonly Lazy<string> CachedSignedValue = new(() => SignedAssertion());

    private static string CachedSigned => CachedSignedValue.Value;

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Fact]
    public void The_corpus_has_at_least_thirty_rows() => Assert.True(Cases.Count >= 30, $"{Cases.Count} rows");

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Hostile_response_is_refused_by_the_named_rule(string attack)
    {
        var hostile = Cases[attack];
        var validator = new SamlResponseValidator(new FakeTimeProvider(SamlResponseSpec.Now));
        var cache = new InMemoryReplayCache();
        var trust = Trust(hostile.Policy);
        var value = hostile.Value();
        if (hostile.PresentedBefore)
        {
            var first = await validator.ValidateAsync(value, trust, hostile.ExpectedRequestId, cache, default);
            Assert.True(first.Succeeded, first.Failure?.ToString());
        }

        var result = await validator.ValidateAsync(value, trust, hostile.ExpectedRequestId, cache, default);

        Assert.False(result.Succeeded, $"{attack} was accepted");
        Assert.Equal(hostile.Rule, result.Failure!.Rule);
        Assert.False(string.IsNullOrWhiteSpace(result.Failure.Description));
    }

    [Theory]
    [InlineData("admin@x.com<!---->.evil.com", "admin@x.com.evil.com")]
    [InlineData("admin@x.com<!-- a comment -->.evil.com", "admin@x.com.evil.com")]
    [InlineData("<!---->admin@x.com.evil.com", "admin@x.com.evil.com")]
    [InlineData("admin@x.com.evil.com<!---->", "admin@x.com.evil.com")]
    public async Task Comment_in_name_id_neither_truncates_nor_alters_the_subject(string nameIdXml, string expected)
    {
        // The IdP signed the value without the comment (exclusive c14n drops comments); the attacker adds one after.
        var document = Build(new SamlResponseSpec { NameIdXml = expected });
        Sign(Assertion(document));
        var nameId = NameId(document);
        nameId.InnerXml = nameIdXml;
        var validator = new SamlResponseValidator(new FakeTimeProvider(SamlResponseSpec.Now));

        var result = await validator.ValidateAsync(Encode(document), Trust(), RequestId, new InMemoryReplayCache(), default);

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal(expected, result.Assertion!.NameId);
    }

    private static XmlDocument Signed()
    {
        var document = Build(new SamlResponseSpec());
        Sign(Assertion(document));
        return document;
    }

    private static string Mutate(XmlDocument document, Action<XmlDocument> change)
    {
        change(document);
        return Encode(document);
    }

    /// <summary>An unsigned copy of the assertion that claims to be an administrator.</summary>
    private static XmlElement Evil(XmlElement assertion)
    {
        var evil = (XmlElement)assertion.CloneNode(true);
        evil.SetAttribute("ID", "_evil");
        foreach (var signature in evil.GetElementsByTagName("Signature", SamlNames.XmlDsig).OfType<XmlElement>().ToList())
        {
            signature.ParentNode!.RemoveChild(signature);
        }

        ((XmlElement)evil.GetElementsByTagName("NameID", SamlNames.Assertion)[0]!).InnerText = "admin@stmarys.example";
        return evil;
    }

    private static XmlElement NameId(XmlDocument document) => (XmlElement)document.GetElementsByTagName("NameID", SamlNames.Assertion)[0]!;

    /// <summary>The Response's samlp:Extensions element, created after the Issuer when missing.</summary>
    private static XmlElement Extensions(XmlDocument document)
    {
        var response = Response(document);
        if (response.GetElementsByTagName("Extensions", SamlNames.Protocol).OfType<XmlElement>().FirstOrDefault(e => e.ParentNode == response) is { } existing)
        {
            return existing;
        }

        var extensions = document.CreateElement("samlp", "Extensions", SamlNames.Protocol);
        var issuer = response.GetElementsByTagName("Issuer", SamlNames.Assertion)[0]!;
        response.InsertAfter(extensions, issuer);
        return extensions;
    }
}
