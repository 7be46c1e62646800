using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tessera.Credentials.Status;

/// <summary>
/// Where a referenced token's status lives (draft-ietf-oauth-status-list §6.1):
/// <c>"status": {"status_list": {"idx": 0, "uri": "https://..."}}</c>.
/// </summary>
public sealed record StatusReference(long Index, string Uri)
{
    public const string ClaimName = "status";

    /// <summary>The <c>status</c> claim's value.</summary>
    public JsonObject ToJson() => new() { ["status_list"] = new JsonObject { ["idx"] = Index, ["uri"] = Uri } };

    /// <summary>Reads the <c>status</c> claim of <paramref name="claims"/>; null value when absent, a failure when malformed.</summary>
    public static CredentialResult<StatusReference>? Read(JsonObject claims)
    {
        if (!claims.TryGetPropertyValue(ClaimName, out var status))
        {
            return null;
        }

        if (status is JsonObject statusObject && statusObject["status_list"] is JsonObject list
            && list["idx"] is JsonValue idx && idx.GetValueKind() == JsonValueKind.Number && idx.TryGetValue<long>(out var index) && index >= 0
            && list["uri"] is JsonValue uriValue && uriValue.TryGetValue<string>(out var uri) && System.Uri.IsWellFormedUriString(uri, UriKind.Absolute))
        {
            return CredentialResult<StatusReference>.Success(new StatusReference(index, uri));
        }

        return CredentialResult<StatusReference>.Fail(CredentialError.StatusMalformed, "The status claim is not {\"status_list\": {\"idx\": n, \"uri\": \"...\"}}.");
    }
}
