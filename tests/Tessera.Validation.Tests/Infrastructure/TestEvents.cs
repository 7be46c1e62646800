using System.Text.Json.Nodes;

namespace Tessera.Validation.Tests.Infrastructure;

/// <summary>Security Event Tokens shaped exactly as Tessera's push sends them.</summary>
public static class TestEvents
{
    public const string SessionRevoked = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
    public const string AccountDisabled = "https://schemas.openid.net/secevent/risc/event-type/account-disabled";
    public const string AccountEnabled = "https://schemas.openid.net/secevent/risc/event-type/account-enabled";

    public static JsonObject Header() => new() { ["typ"] = "secevent+jwt" };

    public static JsonObject SessionRevokedClaims(DateTimeOffset now, string sub, string sid) => Claims(now, sub, sid, SessionRevoked, new JsonObject
    {
        ["event_timestamp"] = now.ToUnixTimeSeconds() - 1,
        ["initiating_entity"] = "admin",
        ["reason_admin"] = new JsonObject { ["en"] = "deactivated by SCIM" },
    });

    public static JsonObject AccountDisabledClaims(DateTimeOffset now, string sub, long? toe = null) =>
        Claims(now, sub, null, AccountDisabled, new JsonObject { ["reason"] = "hijacking" }, toe);

    public static JsonObject AccountEnabledClaims(DateTimeOffset now, string sub) => Claims(now, sub, null, AccountEnabled, []);

    public static JsonObject Claims(DateTimeOffset now, string sub, string? sid, string eventType, JsonObject eventPayload, long? toe = null)
    {
        var subId = new JsonObject
        {
            ["format"] = "complex",
            ["user"] = new JsonObject { ["format"] = "iss_sub", ["iss"] = FakeTessera.IssuerName, ["sub"] = sub },
            ["tenant"] = new JsonObject { ["format"] = "opaque", ["id"] = "st-marys" },
        };
        if (sid is not null)
        {
            subId["session"] = new JsonObject { ["format"] = "opaque", ["id"] = sid };
        }

        return new JsonObject
        {
            ["iss"] = FakeTessera.IssuerName,
            ["aud"] = TestApi.Audience,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["toe"] = toe ?? now.ToUnixTimeSeconds() - 1,
            ["sub_id"] = subId,
            ["events"] = new JsonObject { [eventType] = eventPayload },
        };
    }

    public static string Sign(JsonObject claims, TestKey key) => TestJwt.Sign(Header(), claims, key);
}
