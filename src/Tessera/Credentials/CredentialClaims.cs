using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tessera.Credentials.Vc;
using Tessera.Federation;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Credentials;

/// <summary>What one user's credential says: each configured claim taken from the user's attributes, and which of them are disclosable.</summary>
public sealed record CredentialContent(JsonObject Claims, IReadOnlyList<ClaimPath> Disclosable);

/// <summary>
/// Takes a credential's claims from what Tessera knows of the user: the profile, the SCIM document the organization
/// provisioned, then the latest upstream sign-in's claims and what the organization's rules grant on them.
/// </summary>
public static class CredentialClaims
{
    public static CredentialContent For(CredentialOptions credential, UserRecord user, DirectoryUserRecord? provisioned, Organization? organization, DateOnly today)
    {
        var upstream = ReadAttributes(user.Attributes);
        var granted = organization is null ? new Dictionary<string, string>() : MappingRules.Evaluate(organization.Options.Rules, upstream).Claims;
        JsonObject? scim = null;
        if (provisioned is not null)
        {
            try
            {
                scim = JsonNode.Parse(provisioned.Document) as JsonObject;
            }
            catch (JsonException)
            {
                scim = null;
            }
        }

        var claims = new JsonObject();
        var disclosable = new List<ClaimPath>();
        foreach (var (name, source) in credential.Claims)
        {
            var value = Profile(source.From, user) ?? Scim(scim, source.From) ?? Upstream(upstream, granted, source.From);
            if (value is null)
            {
                continue; // the user lacks the attribute: the claim is left out, never made up
            }

            if (source.Thresholds.Count > 0)
            {
                if (value.GetValueKind() != JsonValueKind.String
                    || !DateOnly.TryParseExact(value.GetValue<string>(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var born))
                {
                    continue;
                }

                var ages = new JsonObject();
                foreach (var age in source.Thresholds.Order())
                {
                    ages[age.ToString(CultureInfo.InvariantCulture)] = born.AddYears(age) <= today;
                }

                value = ages;
                if (credential.Disclosable.Contains(name))
                {
                    // Each age on its own: "over 21" need not say "over 18" too.
                    disclosable.AddRange(source.Thresholds.Select(age => ClaimPath.Of(name, age.ToString(CultureInfo.InvariantCulture))));
                }
            }

            claims[name] = value;
            if (credential.Disclosable.Contains(name))
            {
                disclosable.Add(ClaimPath.Of(name));
            }
        }

        return new CredentialContent(claims, disclosable);
    }

    private static JsonNode? Profile(string from, UserRecord user) => from switch
    {
        "email" => user.Email,
        "email_verified" => user.Email is null ? null : JsonValue.Create(user.EmailVerified),
        "name" => user.Name,
        "given_name" => user.GivenName,
        "family_name" => user.FamilyName,
        "org" => user.OrganizationId,
        _ => null,
    };

    /// <summary>A SCIM attribute by its path: <c>title</c>, <c>name.givenName</c>, or an extension's <c>urn:…:User:department</c> (names are case-insensitive, RFC 7643 §2.1).</summary>
    private static JsonNode? Scim(JsonObject? document, string from)
    {
        if (document is null)
        {
            return null;
        }

        JsonNode? node = document;
        var colon = from.LastIndexOf(':');
        var rest = from;
        if (colon > 0 && from.StartsWith("urn:", StringComparison.OrdinalIgnoreCase))
        {
            node = Member(document, from[..colon]);
            rest = from[(colon + 1)..];
        }

        foreach (var part in rest.Split('.'))
        {
            node = node is JsonObject o ? Member(o, part) : null;
        }

        return node is JsonValue or JsonArray ? node.DeepClone() : null;
    }

    private static JsonNode? Member(JsonObject value, string name) =>
        value.FirstOrDefault(m => string.Equals(m.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    private static JsonNode? Upstream(IReadOnlyDictionary<string, IReadOnlyList<string>> upstream, IReadOnlyDictionary<string, string> granted, string from)
    {
        if (granted.TryGetValue(from, out var grant))
        {
            return grant;
        }

        if (!upstream.TryGetValue(from, out var values) || values.Count == 0)
        {
            return null;
        }

        return values.Count == 1 ? JsonValue.Create(values[0]) : new JsonArray([.. values.Select(v => JsonValue.Create(v))]);
    }

    private static IReadOnlyDictionary<string, IReadOnlyList<string>> ReadAttributes(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, List<string>>>(json)?.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)p.Value, StringComparer.Ordinal)
                ?? new Dictionary<string, IReadOnlyList<string>>();
        }
        catch (JsonException)
        {
            return new Dictionary<string, IReadOnlyList<string>>();
        }
    }
}
