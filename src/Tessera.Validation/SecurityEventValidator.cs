using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Validation;

/// <summary>
/// Verifies one pushed Security Event Token: Tessera's signature (same keys and unknown-kid refresh as access
/// tokens), <c>typ</c> <c>secevent+jwt</c> (RFC 8417 §2.3), issuer, this receiver's audience, <c>iat</c> not in the
/// future, a <c>jti</c>, exactly one known event, and a <c>sub_id</c> of the shape that event needs. Replays are
/// left to the caller, which records the <c>jti</c> only once everything here holds.
/// </summary>
internal sealed class SecurityEventValidator(TesseraJwtVerifier verifier, IOptions<TesseraValidationOptions> options, TimeProvider time)
{
    private readonly TesseraValidationOptions _options = options.Value;
    private readonly string[] _issuers = IssuerNames.Of(options.Value.Authority);
    private readonly JwtProfile _profile = new("SET", ["secevent+jwt", "application/secevent+jwt"], options.Value.EffectiveSignalAudience, hasLifetime: false);

    public async ValueTask<SecurityEventResult> ValidateAsync(string set, CancellationToken cancellationToken)
    {
        var verification = await verifier.VerifyAsync(set, _profile, cancellationToken);
        if (!verification.Succeeded)
        {
            // RFC 8935 §2.4
            var error = verification.Failure switch
            {
                TokenFailures.Issuer => SecurityEventErrors.InvalidIssuer,
                TokenFailures.Audience => SecurityEventErrors.InvalidAudience,
                TokenFailures.UnknownKey or TokenFailures.Signature => SecurityEventErrors.InvalidKey,
                _ => SecurityEventErrors.InvalidRequest,
            };
            return SecurityEventResult.Refuse(error, verification.Description!) with { Transient = verification.Failure == TokenFailures.KeysUnavailable };
        }

        var jwt = verification.Token!;
        using var payload = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(jwt.EncodedPayload));
        return Read(payload.RootElement);
    }

    private SecurityEventResult Read(JsonElement payload)
    {
        // RFC 8417 §2.2: iat and jti are required.
        if (!TryGetSeconds(payload, "iat", out var issuedAt))
        {
            return Invalid("The SET has no iat.");
        }

        if (DateTimeOffset.FromUnixTimeSeconds(issuedAt) > time.GetUtcNow() + _options.ClockSkew)
        {
            return Invalid("The SET's iat is in the future.");
        }

        if (!payload.TryGetProperty("jti", out var jtiElement) || jtiElement.ValueKind != JsonValueKind.String || jtiElement.GetString() is not { Length: > 0 and <= 256 } jti)
        {
            return Invalid("The SET has no usable jti.");
        }

        if (!payload.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Object)
        {
            return Invalid("The SET has no events claim.");
        }

        // Tessera sends exactly one event per SET.
        using var members = events.EnumerateObject();
        if (!members.MoveNext())
        {
            return Invalid("The SET's events claim is empty.");
        }

        var member = members.Current;
        if (members.MoveNext())
        {
            return Invalid("The SET carries more than one event.");
        }

        if (SecurityEventTypes.FromUri(member.Name) is not { } type)
        {
            return Invalid("The SET's event type is not one this receiver acts on.");
        }

        if (member.Value.ValueKind != JsonValueKind.Object)
        {
            return Invalid("The SET's event payload is not an object.");
        }

        // OpenID SSF 1.0 §3 (complex subject): user is iss_sub of Tessera, session is opaque.
        if (!payload.TryGetProperty("sub_id", out var subId) || subId.ValueKind != JsonValueKind.Object
            || !subId.TryGetProperty("user", out var user) || user.ValueKind != JsonValueKind.Object
            || Text(user, "format") != "iss_sub" || !IssuerNames.Matches(_issuers, Text(user, "iss"))
            || Text(user, "sub") is not { Length: > 0 } subject)
        {
            return Invalid("The SET's sub_id does not name a Tessera user (complex subject with an iss_sub user).");
        }

        if (Text(subId, "format") is { } format && format != "complex")
        {
            return Invalid("The SET's sub_id must be a complex subject.");
        }

        string? sessionId = null;
        if (type == SecurityEventType.SessionRevoked)
        {
            if (!subId.TryGetProperty("session", out var session) || session.ValueKind != JsonValueKind.Object
                || Text(session, "format") != "opaque" || Text(session, "id") is not { Length: > 0 } id)
            {
                return Invalid("A session-revoked SET must name the session (sub_id.session, opaque).");
            }

            sessionId = id;
        }

        // The time of the event (toe); a SET without one is taken as of its issue, which revokes no less.
        var timeOfEvent = TryGetSeconds(payload, "toe", out var toe) ? toe : issuedAt;
        return new SecurityEventResult(new SecurityEvent(jti, type, subject, sessionId, timeOfEvent), null, null);
    }

    private static bool TryGetSeconds(JsonElement payload, string name, out long seconds)
    {
        seconds = 0;
        return payload.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out seconds) && seconds >= 0;
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static SecurityEventResult Invalid(string description) => SecurityEventResult.Refuse(SecurityEventErrors.InvalidRequest, description);
}
