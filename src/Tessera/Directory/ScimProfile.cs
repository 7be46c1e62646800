using System.Text.Json.Nodes;
using Tessera.Storage;

namespace Tessera.Directory;

/// <summary>What a provisioned user's SCIM attributes make of the internal user's profile, which tokens carry.</summary>
public static class ScimProfile
{
    public static void Apply(UserRecord user, JsonObject document)
    {
        var name = document["name"] as JsonObject;
        user.GivenName = Text(name?["givenName"]);
        user.FamilyName = Text(name?["familyName"]);
        user.Name = Text(document["displayName"]) ?? Text(name?["formatted"])
            ?? (user.GivenName is null && user.FamilyName is null ? null : $"{user.GivenName} {user.FamilyName}".Trim());
        var email = PrimaryEmail(document);
        if (!string.Equals(email, user.Email, StringComparison.OrdinalIgnoreCase))
        {
            user.Email = email;
            user.EmailVerified = false;
        }
    }

    /// <summary>The primary email, or the only one when none is marked primary.</summary>
    public static string? PrimaryEmail(JsonObject document)
    {
        if (document["emails"] is not JsonArray emails)
        {
            return null;
        }

        var primary = emails.FirstOrDefault(e => e?["primary"] is JsonValue p && p.GetValue<bool>()) ?? (emails.Count == 1 ? emails[0] : null);
        return Text(primary?["value"]);
    }

    /// <summary>The addresses a sign-in's email is matched against (lowercase): <c>userName</c> and the primary email.</summary>
    public static List<string> MatchableEmails(JsonObject document)
    {
        var result = new List<string>();
        if (Text(document["userName"]) is { } userName && userName.Contains('@'))
        {
            result.Add(userName.ToLowerInvariant());
        }

        if (PrimaryEmail(document) is { } email && !result.Contains(email.ToLowerInvariant()))
        {
            result.Add(email.ToLowerInvariant());
        }

        return result;
    }

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
