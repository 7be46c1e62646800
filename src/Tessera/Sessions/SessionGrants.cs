using System.Text.Json;

namespace Tessera.Sessions;

/// <summary>What the mapping rules granted at sign-in: restricted scopes and extra claims. Stored with the session.</summary>
public sealed record SessionGrants(IReadOnlyList<string> Scopes, IReadOnlyDictionary<string, string> Claims)
{
    public static readonly SessionGrants None = new([], new Dictionary<string, string>());

    public string ToJson() => JsonSerializer.Serialize(this);

    public static SessionGrants FromJson(string json) =>
        JsonSerializer.Deserialize<SessionGrants>(json) ?? None;
}
