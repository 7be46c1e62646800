using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Tessera.Tests.Infrastructure;

/// <summary>
/// One request shape an identity provider documents sending to a SCIM server (Directory/Fixtures/{provider}/*.json,
/// described in the README there): filled with a run's values, sent, and its answer checked against what the file
/// expects. The interop suite replays the same files.
/// </summary>
public sealed partial record ScimFixture(string Provider, string Name, string Method, string Path, JsonNode? Body, string? Repeat, JsonObject Expect)
{
    public static string Folder(string provider) => System.IO.Path.Combine(AppContext.BaseDirectory, "Directory", "Fixtures", provider);

    /// <summary>The names of a provider's fixtures (file names without .json), in file order.</summary>
    public static IReadOnlyList<string> Names(string provider) =>
        [.. System.IO.Directory.GetFiles(Folder(provider), "*.json").Select(f => System.IO.Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal)];

    public static ScimFixture Load(string provider, string name)
    {
        var json = JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(Folder(provider), name + ".json")))!.AsObject();
        Assert.False(string.IsNullOrWhiteSpace(json["description"]?.GetValue<string>()), $"{provider}/{name} has a description");
        Assert.False(string.IsNullOrWhiteSpace(json["source"]?.GetValue<string>()), $"{provider}/{name} names its source");
        return new ScimFixture(provider, name, json["method"]!.GetValue<string>(), json["path"]!.GetValue<string>(), json["body"]?.DeepClone(),
            json["repeat"]?.GetValue<string>(), json["expect"]!.AsObject());
    }

    public int ExpectedStatus => Expect["status"]!.GetValue<int>();

    /// <summary>The path relative to the SCIM base, placeholders filled and query values URL-encoded.</summary>
    public string RelativeUrl(IReadOnlyDictionary<string, string> values)
    {
        var filled = Fill(Path, values).TrimStart('/');
        var question = filled.IndexOf('?', StringComparison.Ordinal);
        if (question < 0)
        {
            return filled;
        }

        var query = filled[(question + 1)..].Split('&').Select(pair =>
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            return equals < 0 ? pair : pair[..equals] + "=" + Uri.EscapeDataString(pair[(equals + 1)..]);
        });
        return filled[..question] + "?" + string.Join('&', query);
    }

    /// <summary>The body with placeholders filled; the <c>repeat</c> array holds its one item once per member.</summary>
    public JsonNode? RequestBody(IReadOnlyDictionary<string, string> values, IReadOnlyList<(string Id, string UserName)>? members = null)
    {
        if (Body is null)
        {
            return null;
        }

        var body = Body.DeepClone();
        if (Repeat is not null)
        {
            var list = Assert.IsType<JsonArray>(Pointer(body, Repeat));
            var template = Assert.Single(list)!;
            list.Clear();
            foreach (var (id, userName) in members ?? throw new ArgumentException($"{Provider}/{Name} repeats an item per member; give the members."))
            {
                list.Add(Filled(template, new Dictionary<string, string>(values) { ["memberId"] = id, ["memberUserName"] = userName }));
            }
        }

        return Filled(body, values);
    }

    /// <summary>Sends the request and checks the status and the facts the fixture expects of the answer.</summary>
    public async Task<ScimResponse> ReplayAsync(ScimClient scim, IReadOnlyDictionary<string, string> values, IReadOnlyList<(string Id, string UserName)>? members = null)
    {
        var body = RequestBody(values, members);
        var response = await scim.SendAsync(new HttpMethod(Method), RelativeUrl(values), body?.ToJsonString());
        Check(response, values);
        return response;
    }

    public void Check(ScimResponse response, IReadOnlyDictionary<string, string> values)
    {
        var label = $"{Provider}/{Name}";
        Assert.True(response.Status == ExpectedStatus, $"{label}: expected {ExpectedStatus}, got {response}");
        foreach (var (pointer, expected) in Expect["body"] as JsonObject ?? [])
        {
            var actual = response.Json is null ? null : Pointer(response.Json, pointer);
            var want = Filled(expected, values);
            Assert.True(JsonNode.DeepEquals(want, actual), $"{label}: {pointer} should be {want?.ToJsonString()}, is {actual?.ToJsonString() ?? "absent"} in {response}");
        }

        foreach (var pointer in Expect["absent"] as JsonArray ?? [])
        {
            Assert.True(response.Json is null || Pointer(response.Json, pointer!.GetValue<string>()) is null, $"{label}: {pointer} should be absent in {response}");
        }
    }

    /// <summary>RFC 6901 JSON Pointer; null when nothing is there.</summary>
    public static JsonNode? Pointer(JsonNode root, string pointer)
    {
        var node = root;
        foreach (var token in pointer.Split('/').Skip(1).Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)))
        {
            node = node switch
            {
                JsonObject json => json.TryGetPropertyValue(token, out var member) ? member : null,
                JsonArray array when int.TryParse(token, out var index) && index >= 0 && index < array.Count => array[index],
                _ => null,
            };
            if (node is null)
            {
                return null;
            }
        }

        return node;
    }

    private static JsonNode? Filled(JsonNode? node, IReadOnlyDictionary<string, string> values) => node switch
    {
        JsonObject json => new JsonObject(json.Select(p => KeyValuePair.Create(p.Key, Filled(p.Value, values)))),
        JsonArray array => new JsonArray([.. array.Select(item => Filled(item, values))]),
        JsonValue value when value.TryGetValue<string>(out var text) => JsonValue.Create(Fill(text, values)),
        _ => node?.DeepClone(),
    };

    private static string Fill(string text, IReadOnlyDictionary<string, string> values) =>
        Placeholder().Replace(text, match => match.Groups[1].Value == "random" ? Guid.NewGuid().ToString()
            : values.TryGetValue(match.Groups[1].Value, out var value) ? value
            : throw new ArgumentException($"No value for the placeholder {match.Value}."));

    [GeneratedRegex(@"\{(userId|userName|email|externalId|managerId|groupId|groupName|groupExternalId|memberId|memberUserName|random)\}")]
    private static partial Regex Placeholder();
}
