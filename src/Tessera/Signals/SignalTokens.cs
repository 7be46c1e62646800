using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Hosting;
using Tessera.Keys;
using Tessera.Storage;

namespace Tessera.Signals;

/// <summary>
/// The signed tokens a signal travels as, made when it is sent (so the current key signs) with the <c>jti</c> fixed
/// at enqueue time (so a retry is recognisably the same signal).
/// </summary>
public sealed class SignalTokens(KeyRing keys, TesseraIssuer issuer, TimeProvider time)
{
    public const string LogoutTokenType = "logout+jwt";
    public const string SecurityEventTokenType = "secevent+jwt";

    /// <summary>A logout token lives long enough to cross the network, not to be replayed later.</summary>
    private static readonly TimeSpan LogoutTokenLifetime = TimeSpan.FromMinutes(2);

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>OpenID Connect Back-Channel Logout 1.0 §2.4: <c>iss</c>, <c>aud</c>, <c>iat</c>, <c>exp</c>, <c>jti</c>, <c>events</c>, <c>sub</c> and <c>sid</c>; never a <c>nonce</c>.</summary>
    public string LogoutToken(SignalEventRecord signal, ClientOptions client, string tokenId)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["jti"] = tokenId,
            ["sub"] = signal.UserId.ToString(),
            ["events"] = new Dictionary<string, object> { [SignalTypes.BackchannelLogoutEvent] = new Dictionary<string, object>() },
        };
        if (signal.SessionId is not null)
        {
            claims["sid"] = signal.SessionId;
        }

        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer.Name,
            Audience = client.ClientId,
            IssuedAt = now,
            Expires = now + LogoutTokenLifetime,
            TokenType = LogoutTokenType,
            Claims = claims,
            SigningCredentials = keys.SigningCredentials(client.SigningAlgorithm),
        });
    }

    /// <summary>
    /// RFC 8417 §2.2 with the Shared Signals Framework's complex subject (<c>sub_id</c>: the user as issuer and subject,
    /// the session, the organization as tenant) and one CAEP or RISC event.
    /// </summary>
    public string SecurityEventToken(SignalEventRecord signal, SignalReceiverOptions receiver, string tokenId)
    {
        var occurred = new DateTimeOffset(signal.OccurredAt, TimeSpan.Zero).ToUnixTimeSeconds();
        var subject = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["format"] = "complex",
            ["user"] = new Dictionary<string, object> { ["format"] = "iss_sub", ["iss"] = issuer.Name, ["sub"] = signal.UserId.ToString() },
            ["tenant"] = new Dictionary<string, object> { ["format"] = "opaque", ["id"] = signal.OrganizationId },
        };
        if (signal.SessionId is not null)
        {
            subject["session"] = new Dictionary<string, object> { ["format"] = "opaque", ["id"] = signal.SessionId };
        }

        var payload = new Dictionary<string, object>(StringComparer.Ordinal);
        if (signal.Type == SignalTypes.SessionRevoked)
        {
            // CAEP 1.0 §3.1 and §2: event_timestamp, initiating_entity, reason_admin.
            payload["event_timestamp"] = occurred;
            payload["initiating_entity"] = signal.InitiatingEntity;
            payload["reason_admin"] = new Dictionary<string, object> { ["en"] = signal.Reason };
        }
        else if (signal.Type == SignalTypes.RiskLevelChange)
        {
            // CAEP 1.0 §3.7: the user's risk is now high, and why (the rule that fired).
            payload["principal"] = "USER";
            payload["current_level"] = "HIGH";
            payload["risk_reason"] = signal.Reason;
            payload["event_timestamp"] = occurred;
            payload["initiating_entity"] = signal.InitiatingEntity;
        }
        else if (signal.Type == SignalTypes.AccountDisabled && signal.InitiatingEntity == InitiatingEntities.Policy)
        {
            // RISC 1.0 §2.3 knows two reasons; a policy action against a compromise is "hijacking".
            payload["reason"] = "hijacking";
        }

        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer.Name,
            Audience = receiver.Audience ?? receiver.Id,
            IssuedAt = time.GetUtcNow().UtcDateTime,
            TokenType = SecurityEventTokenType,
            Claims = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                ["jti"] = tokenId,
                ["toe"] = occurred,
                ["sub_id"] = subject,
                ["events"] = new Dictionary<string, object> { [SignalTypes.EventUri(signal.Type)] = payload },
            },
            SigningCredentials = keys.SigningCredentials(receiver.SigningAlgorithm),
        });
    }
}
