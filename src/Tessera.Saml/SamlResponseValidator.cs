using System.Globalization;
using System.Xml;

namespace Tessera.Saml;

/// <summary>Everything one connection trusts and expects: the IdP, Tessera as SP, and how strict to be.</summary>
public sealed record SamlTrust(SamlIdentityProvider IdentityProvider, SamlServiceProvider ServiceProvider, SamlPolicy Policy);

/// <summary>
/// Validates an HTTP-POST SAML Response (SAML 2.0 Core, Profiles §4.1.4) for Web Browser SSO. Each check names the
/// rule it enforces; the first one that fails is the answer. Everything the result carries is read from the
/// assertion element the signature covered, never from a second query of the document.
/// </summary>
public sealed class SamlResponseValidator(TimeProvider time)
{
    /// <summary>
    /// Validates <paramref name="samlResponse"/> (the base64 <c>SAMLResponse</c> form value). <paramref name="expectedRequestId"/>
    /// is the ID of the pending AuthnRequest this answer must belong to, or null when none is pending (an
    /// IdP-initiated response). The assertion ID is recorded in <paramref name="replayCache"/> last, once every other
    /// rule holds.
    /// </summary>
    public async ValueTask<SamlResult> ValidateAsync(string samlResponse, SamlTrust trust, string? expectedRequestId, ISamlReplayCache replayCache, CancellationToken cancellationToken)
    {
        var result = Validate(samlResponse, trust, expectedRequestId);
        if (!result.Succeeded)
        {
            return result;
        }

        var assertion = result.Assertion!;
        var replayExpiry = assertion.NotOnOrAfter + trust.Policy.ClockSkew;
        return await replayCache.TryRecordAsync(assertion.Issuer, assertion.Id, replayExpiry, cancellationToken)
            ? result
            : SamlResult.Fail(SamlRules.Replay, "This assertion was already used.");
    }

    /// <summary>Every rule except the replay check, which needs the cache.</summary>
    public SamlResult Validate(string samlResponse, SamlTrust trust, string? expectedRequestId)
    {
        var policy = trust.Policy;
        var (document, failure) = Decode(samlResponse, policy.MaxResponseBytes);
        if (failure is not null)
        {
            return Fail(failure);
        }

        var response = document!.DocumentElement!;
        if (response is not { LocalName: "Response", NamespaceURI: SamlNames.Protocol })
        {
            return SamlResult.Fail(SamlRules.NotAResponse, "The document is not a SAML 2.0 Response.");
        }

        return ValidateResponse(response, trust, expectedRequestId, time.GetUtcNow());
    }

    /// <summary>
    /// Validates a standalone assertion presented as a token (RFC 8693 §3 <c>saml2</c>, base64url of the
    /// assertion; profiled as in RFC 7522 §3): it must be signed by the IdP, be meant for one of
    /// <paramref name="audiences"/>, and its bearer confirmation must name one of <paramref name="recipients"/>.
    /// It need not answer a request nor carry an authentication statement. The ID is recorded in
    /// <paramref name="replayCache"/>, so an assertion is exchanged (or used to sign in) once.
    /// </summary>
    public async ValueTask<SamlResult> ValidateAssertionAsync(string encodedAssertion, SamlTrust trust, IReadOnlyCollection<string> audiences, IReadOnlyCollection<string> recipients,
        ISamlReplayCache replayCache, CancellationToken cancellationToken)
    {
        var result = ValidateAssertion(encodedAssertion, trust, audiences, recipients);
        if (!result.Succeeded)
        {
            return result;
        }

        var assertion = result.Assertion!;
        return await replayCache.TryRecordAsync(assertion.Issuer, assertion.Id, assertion.NotOnOrAfter + trust.Policy.ClockSkew, cancellationToken)
            ? result
            : SamlResult.Fail(SamlRules.Replay, "This assertion was already used.");
    }

    /// <summary>Every rule of <see cref="ValidateAssertionAsync"/> except the replay check.</summary>
    public SamlResult ValidateAssertion(string encodedAssertion, SamlTrust trust, IReadOnlyCollection<string> audiences, IReadOnlyCollection<string> recipients)
    {
        var policy = trust.Policy;
        string base64;
        try
        {
            // base64url (RFC 4648 §5) as RFC 8693 asks; padding is tolerated.
            base64 = Convert.ToBase64String(Base64UrlDecode(encodedAssertion.Trim(), policy.MaxResponseBytes));
        }
        catch (FormatException)
        {
            return SamlResult.Fail(SamlRules.Base64, "The assertion is not valid base64url.");
        }

        var (document, failure) = Decode(base64, policy.MaxResponseBytes);
        if (failure is not null)
        {
            return Fail(failure);
        }

        var assertion = document!.DocumentElement!;
        if (assertion is not { LocalName: "Assertion", NamespaceURI: SamlNames.Assertion })
        {
            return SamlResult.Fail(SamlRules.NotAResponse, "The token is not a SAML 2.0 Assertion.");
        }

        if (assertion.DescendantsAndSelf().Count(IsAssertion) != 1)
        {
            return SamlResult.Fail(SamlRules.AssertionCount, "The token contains more than one assertion.");
        }

        // With no Response around it, the assertion's own signature is all that vouches for it.
        (var signature, failure) = EnvelopedSignature.Find(assertion);
        if (failure is not null)
        {
            return Fail(failure);
        }

        if (signature is null)
        {
            return SamlResult.Fail(SamlRules.SignatureMissing, "The assertion is not signed.");
        }

        if (EnvelopedSignature.Verify(assertion, signature, trust.IdentityProvider.SigningCertificates, policy) is { } invalid)
        {
            return Fail(invalid);
        }

        return ReadAssertion(assertion, trust, new Expectations(audiences, recipients, null, CheckInResponseTo: false, RequireAuthnStatement: false), time.GetUtcNow());
    }

    private static byte[] Base64UrlDecode(string value, int maxBytes)
    {
        if (value.Length == 0 || value.Length > maxBytes / 3 * 4 + 4 || value.IndexOfAny(['+', '/']) >= 0)
        {
            throw new FormatException();
        }

        var text = value.TrimEnd('=').Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(text.PadRight(text.Length + (4 - text.Length % 4) % 4, '='));
    }

    /// <summary>What an assertion must be addressed to, and what else it must carry, in the profile it is used in.</summary>
    private sealed record Expectations(IReadOnlyCollection<string> Audiences, IReadOnlyCollection<string> Recipients, string? InResponseTo, bool CheckInResponseTo, bool RequireAuthnStatement)
    {
        public static Expectations WebSso(SamlServiceProvider sp, string? expectedRequestId) =>
            new([sp.EntityId], [sp.AssertionConsumerServiceUrl.AbsoluteUri], expectedRequestId, CheckInResponseTo: true, RequireAuthnStatement: true);
    }

    private static (XmlDocument? Document, SamlFailure? Failure) Decode(string value, int maxBytes)
    {
        // Size limit before any decoding or parsing: base64 is 4 characters per 3 bytes, plus line breaks.
        if (string.IsNullOrWhiteSpace(value))
        {
            return (null, new SamlFailure(SamlRules.Base64, "The SAMLResponse is empty."));
        }

        if (value.Length > maxBytes / 3 * 4 * 11 / 10 + 8)
        {
            return (null, new SamlFailure(SamlRules.Size, "The SAMLResponse is larger than allowed."));
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(value);
        }
        catch (FormatException)
        {
            return (null, new SamlFailure(SamlRules.Base64, "The SAMLResponse is not valid base64."));
        }

        return bytes.Length > maxBytes
            ? (null, new SamlFailure(SamlRules.Size, "The SAMLResponse is larger than allowed."))
            : SecureXml.Load(bytes, maxBytes);
    }

    private static SamlResult ValidateResponse(XmlElement response, SamlTrust trust, string? expectedRequestId, DateTimeOffset now)
    {
        var (idp, sp, policy) = (trust.IdentityProvider, trust.ServiceProvider, trust.Policy);

        // Core §3.2.2
        if (response.GetAttribute("Version") != "2.0")
        {
            return SamlResult.Fail(SamlRules.Version, "The Response is not SAML version 2.0.");
        }

        if (string.IsNullOrEmpty(response.GetAttribute("ID")))
        {
            return SamlResult.Fail(SamlRules.Malformed, "The Response has no ID.");
        }

        // Profiles §4.1.4.2 and Bindings §3.5.5.2: a POSTed response names where it was meant to go.
        if (response.GetAttribute("Destination") != sp.AssertionConsumerServiceUrl.AbsoluteUri)
        {
            return Fail(new SamlFailure(SamlRules.Destination, "The Response was not addressed to this connection's assertion consumer service.")
            {
                Expected = sp.AssertionConsumerServiceUrl.AbsoluteUri,
                Received = ReportedValue.Of(response.GetAttribute("Destination")),
            });
        }

        if (response.Child("Issuer", SamlNames.Assertion) is { } responseIssuer && responseIssuer.InnerText != idp.EntityId)
        {
            return Fail(new SamlFailure(SamlRules.Issuer, "The Response was issued by a different identity provider than this connection trusts.")
            {
                Expected = idp.EntityId,
                Received = ReportedValue.Of(responseIssuer.InnerText),
            });
        }

        // Core §3.2.2.2
        var statusCode = response.Child("Status", SamlNames.Protocol)?.Child("StatusCode", SamlNames.Protocol);
        if (statusCode?.GetAttribute("Value") != SamlNames.StatusSuccess)
        {
            return Fail(new SamlFailure(SamlRules.Status, StatusDescription(statusCode))
            {
                Expected = SamlNames.StatusSuccess,
                Received = ReportedStatus(response.Child("Status", SamlNames.Protocol), statusCode),
            });
        }

        var inResponseTo = CheckInResponseTo(response.GetAttribute("InResponseTo"), expectedRequestId, policy);
        if (inResponseTo is not null)
        {
            return Fail(inResponseTo);
        }

        var (responseSignature, failure) = EnvelopedSignature.Find(response);
        if (failure is not null)
        {
            return Fail(failure);
        }

        if (responseSignature is not null && EnvelopedSignature.Verify(response, responseSignature, idp.SigningCertificates, policy) is { } invalid)
        {
            return Fail(invalid);
        }

        // Exactly one assertion anywhere in the document, and it is a direct child of the Response: an assertion
        // hidden in Extensions, Advice or a ds:Object is the raw material of signature wrapping.
        var (assertion, encrypted, countFailure) = SingleAssertion(response);
        if (countFailure is not null)
        {
            return Fail(countFailure);
        }

        if (encrypted)
        {
            (assertion, failure) = AssertionDecryptor.Decrypt(assertion!, sp.DecryptionCertificate, policy.MaxResponseBytes);
            if (failure is not null)
            {
                return Fail(failure);
            }

            if (assertion!.DescendantsAndSelf().Count(IsAssertion) != 1)
            {
                return SamlResult.Fail(SamlRules.AssertionCount, "The encrypted assertion contains more than one assertion.");
            }
        }

        (var assertionSignature, failure) = EnvelopedSignature.Find(assertion!);
        if (failure is not null)
        {
            return Fail(failure);
        }

        if (assertionSignature is null)
        {
            if (policy.RequireSignedAssertions)
            {
                return SamlResult.Fail(SamlRules.SignatureMissing, "The assertion is not signed; this connection requires signed assertions.");
            }

            if (responseSignature is null)
            {
                return SamlResult.Fail(SamlRules.SignatureMissing, "Neither the Response nor the assertion is signed.");
            }
        }
        else if (EnvelopedSignature.Verify(assertion!, assertionSignature, idp.SigningCertificates, policy) is { } assertionInvalid)
        {
            return Fail(assertionInvalid);
        }

        return ReadAssertion(assertion!, trust, Expectations.WebSso(sp, expectedRequestId), now) is var read && read.Succeeded
            ? SamlResult.Success(read.Assertion! with { WasEncrypted = encrypted })
            : read;
    }

    private static SamlFailure? CheckInResponseTo(string? inResponseTo, string? expectedRequestId, SamlPolicy policy)
    {
        if (string.IsNullOrEmpty(inResponseTo))
        {
            inResponseTo = null;
        }

        if (expectedRequestId is null)
        {
            if (inResponseTo is not null)
            {
                return new SamlFailure(SamlRules.InResponseTo, "The Response answers a request that is not pending here.");
            }

            return policy.AllowUnsolicited
                ? null
                : new SamlFailure(SamlRules.Unsolicited, "IdP-initiated (unsolicited) responses are not accepted by this connection.");
        }

        return inResponseTo == expectedRequestId
            ? null
            : new SamlFailure(SamlRules.InResponseTo, "The Response does not answer the request this sign-in sent.");
    }

    private static (XmlElement? Assertion, bool Encrypted, SamlFailure? Failure) SingleAssertion(XmlElement response)
    {
        var all = response.DescendantsAndSelf().Where(IsAssertion).Take(2).ToList();
        if (all.Count != 1)
        {
            return (null, false, new SamlFailure(SamlRules.AssertionCount,
                all.Count == 0 ? "The Response carries no assertion." : "The Response carries more than one assertion."));
        }

        return ReferenceEquals(all[0].ParentNode, response)
            ? (all[0], all[0].LocalName == "EncryptedAssertion", null)
            : (null, false, new SamlFailure(SamlRules.AssertionCount, "The assertion is not where a Response carries it."));
    }

    private static bool IsAssertion(XmlElement element) =>
        element.NamespaceURI == SamlNames.Assertion && element.LocalName is "Assertion" or "EncryptedAssertion";

    private static SamlResult ReadAssertion(XmlElement assertion, SamlTrust trust, Expectations expected, DateTimeOffset now)
    {
        var (idp, policy) = (trust.IdentityProvider, trust.Policy);
        var skew = policy.ClockSkew;

        var id = assertion.GetAttribute("ID");
        if (string.IsNullOrEmpty(id) || assertion.GetAttribute("Version") != "2.0")
        {
            return SamlResult.Fail(SamlRules.Malformed, "The assertion has no ID or is not version 2.0.");
        }

        // Core §2.3.3: the Issuer is required on an assertion.
        var assertionIssuer = assertion.Child("Issuer", SamlNames.Assertion)?.InnerText;
        if (assertionIssuer != idp.EntityId)
        {
            return Fail(new SamlFailure(SamlRules.Issuer, "The assertion was issued by a different identity provider than this connection trusts.")
            {
                Expected = idp.EntityId,
                Received = ReportedValue.Of(assertionIssuer),
            });
        }

        var subject = assertion.Child("Subject", SamlNames.Assertion);
        var nameIds = subject?.Children("NameID", SamlNames.Assertion).ToList() ?? [];
        if (nameIds.Count != 1)
        {
            return SamlResult.Fail(SamlRules.Subject, subject?.Child("EncryptedID", SamlNames.Assertion) is not null
                ? "Encrypted NameIDs are not supported; encrypt the whole assertion instead."
                : "The assertion must name exactly one subject NameID.");
        }

        // The whole text of the element: comments split a text node but never shorten the value read.
        var nameIdElement = nameIds[0];
        if (nameIdElement.ChildNodes.OfType<XmlElement>().Any())
        {
            return SamlResult.Fail(SamlRules.Subject, "The NameID contains markup.");
        }

        var nameId = nameIdElement.InnerText.Trim();
        if (nameId.Length is 0 or > 1024)
        {
            return SamlResult.Fail(SamlRules.Subject, "The NameID is empty or too long.");
        }

        var (confirmationExpiry, confirmationFailure) = CheckBearerConfirmation(subject!, expected, now, skew);
        if (confirmationFailure is not null)
        {
            return Fail(WithClockOffset(confirmationFailure, assertion, now));
        }

        var (conditionsExpiry, conditionsFailure) = CheckConditions(assertion, expected.Audiences, now, skew);
        if (conditionsFailure is not null)
        {
            return Fail(WithClockOffset(conditionsFailure, assertion, now));
        }

        // Profiles §4.1.4.2: a bearer SSO assertion carries at least one AuthnStatement.
        var authn = assertion.Child("AuthnStatement", SamlNames.Assertion);
        if (authn is null && expected.RequireAuthnStatement)
        {
            return SamlResult.Fail(SamlRules.AuthnStatement, "The assertion carries no authentication statement.");
        }

        DateTimeOffset? authnInstant = null, sessionEnd = null;
        if (authn is not null && (!TryTime(authn, "AuthnInstant", out authnInstant) || !TryTime(authn, "SessionNotOnOrAfter", out sessionEnd)))
        {
            return SamlResult.Fail(SamlRules.Malformed, "The authentication statement has an unreadable time.");
        }

        if (sessionEnd is { } end && now - skew >= end)
        {
            return Fail(WithClockOffset(new SamlFailure(SamlRules.SessionExpired, "The identity provider's session has already ended.") { Expected = ReportedValue.Time(now), Received = ReportedValue.Time(end) }, assertion, now));
        }

        var notOnOrAfter = conditionsExpiry is { } c && c < confirmationExpiry ? c : confirmationExpiry;
        return SamlResult.Success(new SamlAssertion(id, idp.EntityId, nameId, NullIfEmpty(nameIdElement.GetAttribute("Format")), ReadAttributes(assertion), notOnOrAfter)
        {
            InResponseTo = expected.InResponseTo,
            SessionIndex = NullIfEmpty(authn?.GetAttribute("SessionIndex")),
            SessionNotOnOrAfter = sessionEnd,
            AuthnInstant = authnInstant,
            AuthnContextClassRef = NullIfEmpty(authn?.Child("AuthnContext", SamlNames.Assertion)?.Child("AuthnContextClassRef", SamlNames.Assertion)?.InnerText.Trim()),
        });
    }

    /// <summary>Profiles §4.1.4.2: a bearer SubjectConfirmation with Recipient, NotOnOrAfter and (when solicited) InResponseTo.</summary>
    private static (DateTimeOffset Expiry, SamlFailure? Failure) CheckBearerConfirmation(XmlElement subject, Expectations expected, DateTimeOffset now, TimeSpan skew)
    {
        var bearers = subject.Children("SubjectConfirmation", SamlNames.Assertion)
            .Where(c => c.GetAttribute("Method") == SamlNames.BearerConfirmation)
            .ToList();
        if (bearers.Count == 0)
        {
            return (default, new SamlFailure(SamlRules.Subject, "The assertion has no bearer subject confirmation."));
        }

        SamlFailure? first = null;
        foreach (var bearer in bearers)
        {
            var data = bearer.Child("SubjectConfirmationData", SamlNames.Assertion);
            SamlFailure? failure;
            DateTimeOffset? expiry = null;
            if (data is null)
            {
                failure = new SamlFailure(SamlRules.Recipient, "The bearer confirmation names no recipient.");
            }
            else if (!expected.Recipients.Contains(data.GetAttribute("Recipient"), StringComparer.Ordinal))
            {
                failure = new SamlFailure(SamlRules.Recipient, expected.CheckInResponseTo
                    ? "The assertion's Recipient is not this connection's assertion consumer service."
                    : "The assertion's Recipient is not Tessera.")
                {
                    Expected = string.Join(", ", expected.Recipients),
                    Received = ReportedValue.Of(data.GetAttribute("Recipient")),
                };
            }
            else if (!TryTime(data, "NotOnOrAfter", out expiry) || expiry is null)
            {
                failure = new SamlFailure(SamlRules.SubjectConfirmationExpired, "The bearer confirmation has no readable NotOnOrAfter.");
            }
            else if (now - skew >= expiry)
            {
                failure = new SamlFailure(SamlRules.SubjectConfirmationExpired, "The bearer confirmation has expired.") { Expected = ReportedValue.Time(now), Received = ReportedValue.Time(expiry.Value) };
            }
            else if (!TryTime(data, "NotBefore", out var notBefore))
            {
                failure = new SamlFailure(SamlRules.Malformed, "The bearer confirmation has an unreadable NotBefore.");
            }
            else if (notBefore is { } nb && now + skew < nb)
            {
                failure = new SamlFailure(SamlRules.NotYetValid, "The bearer confirmation is not valid yet.") { Expected = ReportedValue.Time(now), Received = ReportedValue.Time(nb) };
            }
            else if (expected.CheckInResponseTo && NullIfEmpty(data.GetAttribute("InResponseTo")) != expected.InResponseTo)
            {
                failure = new SamlFailure(SamlRules.InResponseTo, "The assertion answers a different request than this sign-in sent.");
            }
            else
            {
                return (expiry.Value, null);
            }

            first ??= failure;
        }

        return (default, first);
    }

    /// <summary>Core §2.5.1: the validity window, and every AudienceRestriction names this SP.</summary>
    private static (DateTimeOffset? Expiry, SamlFailure? Failure) CheckConditions(XmlElement assertion, IReadOnlyCollection<string> audiences, DateTimeOffset now, TimeSpan skew)
    {
        var conditions = assertion.Children("Conditions", SamlNames.Assertion).ToList();
        if (conditions.Count != 1)
        {
            return (null, new SamlFailure(SamlRules.Audience, "The assertion must carry one Conditions element restricting its audience."));
        }

        var element = conditions[0];
        if (!TryTime(element, "NotBefore", out var notBefore) || !TryTime(element, "NotOnOrAfter", out var notOnOrAfter))
        {
            return (null, new SamlFailure(SamlRules.Malformed, "The assertion's conditions have an unreadable time."));
        }

        if (notBefore is { } nb && now + skew < nb)
        {
            return (null, new SamlFailure(SamlRules.NotYetValid, "The assertion is not valid yet.") { Expected = ReportedValue.Time(now), Received = ReportedValue.Time(nb) });
        }

        if (notOnOrAfter is { } na && now - skew >= na)
        {
            return (null, new SamlFailure(SamlRules.Expired, "The assertion has expired.") { Expected = ReportedValue.Time(now), Received = ReportedValue.Time(na) });
        }

        var restrictions = element.Children("AudienceRestriction", SamlNames.Assertion).ToList();
        if (restrictions.Count == 0 || !restrictions.All(r => r.Children("Audience", SamlNames.Assertion).Any(a => audiences.Contains(a.InnerText.Trim(), StringComparer.Ordinal))))
        {
            return (null, new SamlFailure(SamlRules.Audience, "The assertion is not meant for this service provider (Audience).")
            {
                Expected = string.Join(", ", audiences),
                Received = ReportedValue.Of(restrictions.SelectMany(r => r.Children("Audience", SamlNames.Assertion)).Select(a => a.InnerText)),
            });
        }

        return (notOnOrAfter, null);
    }

    private static Dictionary<string, IReadOnlyList<string>> ReadAttributes(XmlElement assertion)
    {
        var attributes = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var statement in assertion.Children("AttributeStatement", SamlNames.Assertion))
        {
            foreach (var attribute in statement.Children("Attribute", SamlNames.Assertion))
            {
                var name = attribute.GetAttribute("Name");
                if (name.Length == 0)
                {
                    continue;
                }

                if (!attributes.TryGetValue(name, out var values))
                {
                    attributes[name] = values = [];
                }

                foreach (var value in attribute.Children("AttributeValue", SamlNames.Assertion))
                {
                    if (!value.ChildNodes.OfType<XmlElement>().Any())
                    {
                        values.Add(value.InnerText);
                    }
                }
            }
        }

        return attributes.ToDictionary(a => a.Key, a => (IReadOnlyList<string>)a.Value, StringComparer.Ordinal);
    }

    private static readonly string[] UtcTimeFormats = ["yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'"];

    private static bool TryTime(XmlElement element, string attribute, out DateTimeOffset? value)
    {
        value = null;
        var text = element.GetAttribute(attribute);
        if (text.Length == 0)
        {
            return true;
        }

        // Core §1.3.3: xs:dateTime in UTC with the "Z" designator, fractional seconds optional; nothing looser.
        if (DateTimeOffset.TryParseExact(text, UtcTimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            value = parsed;
            return true;
        }

        return false;
    }

    /// <summary>
    /// For a failure of a time rule: how far the IdP's clock is from ours, read from the IssueInstant of the assertion
    /// the signature covered (or, lacking one, of the Response around it). It is only reported, never used to decide.
    /// </summary>
    private static SamlFailure WithClockOffset(SamlFailure failure, XmlElement assertion, DateTimeOffset now)
    {
        if (failure.Rule is not (SamlRules.NotYetValid or SamlRules.Expired or SamlRules.SubjectConfirmationExpired or SamlRules.SessionExpired))
        {
            return failure;
        }

        XmlElement[] sources = assertion.ParentNode is XmlElement { LocalName: "Response", NamespaceURI: SamlNames.Protocol } response ? [assertion, response] : [assertion];
        foreach (var element in sources)
        {
            if (TryTime(element, "IssueInstant", out var issued) && issued is { } instant)
            {
                return failure with { ClockOffset = instant - now };
            }
        }

        return failure;
    }

    /// <summary>The status codes (and message) an IdP answered with, as it wrote them.</summary>
    private static string? ReportedStatus(XmlElement? status, XmlElement? statusCode)
    {
        var codes = new[] { statusCode?.GetAttribute("Value"), statusCode?.Child("StatusCode", SamlNames.Protocol)?.GetAttribute("Value") }
            .Where(c => !string.IsNullOrEmpty(c));
        var message = status?.Child("StatusMessage", SamlNames.Protocol)?.InnerText;
        return ReportedValue.Of(string.Join(" ", codes) + (string.IsNullOrWhiteSpace(message) ? "" : ": " + message));
    }

    private static string StatusDescription(XmlElement? statusCode)
    {
        var top = statusCode?.GetAttribute("Value");
        var second = statusCode?.Child("StatusCode", SamlNames.Protocol)?.GetAttribute("Value");
        var shortName = (second is { Length: > 0 } ? second : top) is { Length: > 0 } code ? code[(code.LastIndexOf(':') + 1)..] : "missing";
        return $"The identity provider did not sign the user in (status {Truncate(shortName, 60)}).";
    }

    private static string Truncate(string value, int length) => value.Length > length ? value[..length] : value;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static SamlResult Fail(SamlFailure failure) => new(null, failure);
}
