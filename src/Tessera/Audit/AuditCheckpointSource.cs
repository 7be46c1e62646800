using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Tessera.Hosting;

namespace Tessera.Audit;

/// <summary>
/// Where <c>tessera audit verify --checkpoints</c> gets checkpoints from, and whose keys check them: a running Tessera's
/// <c>/audit/checkpoints</c> (every page of it, or <c>/latest</c>) checked against the keys of that Tessera's discovery
/// document, or a file kept by whoever fetched them (the endpoint's JSON, or one JWS per line) checked against the
/// configured issuer's. <c>--issuer</c> names the Tessera whose discovery to use instead.
/// </summary>
public sealed class AuditCheckpointSource(HttpClient http)
{
    public const string Path = "/audit/checkpoints";
    private const string Discovery = "/.well-known/openid-configuration";
    private const int MaxPages = 100_000;

    /// <summary>An http(s) source, and the discovery document of the Tessera that serves it (or of <paramref name="issuer"/>).</summary>
    public static bool TryParseUrl(string source, string? issuer, out Uri url, out string discovery, out string? problem)
    {
        discovery = "";
        problem = null;
        if (!Uri.TryCreate(source, UriKind.Absolute, out url!) || url.Scheme is not ("http" or "https"))
        {
            return false;
        }

        if (issuer is not null)
        {
            discovery = DiscoveryOf(issuer);
        }
        else
        {
            var path = url.AbsolutePath.TrimEnd('/');
            var at = path.EndsWith(Path + "/latest", StringComparison.Ordinal) ? path.Length - (Path.Length + "/latest".Length)
                : path.EndsWith(Path, StringComparison.Ordinal) ? path.Length - Path.Length
                : -1;
            if (at < 0)
            {
                problem = $"{source} is not a Tessera's {Path} (or {Path}/latest); name the Tessera whose keys sign them with --issuer";
                return true;
            }

            discovery = url.GetLeftPart(UriPartial.Authority) + path[..at] + Discovery;
        }

        problem ??= Insecure(url) ?? Insecure(new Uri(discovery));
        return true;
    }

    public static string DiscoveryOf(string issuer) => new TesseraIssuer(issuer).Url(Discovery);

    /// <summary>Key sets and discovery are fetched over https, except from a loopback address.</summary>
    public static string? Insecure(Uri url) =>
        url.Scheme == Uri.UriSchemeHttps || (url.Scheme == Uri.UriSchemeHttp && url.IsLoopback) ? null : $"{url} must use https unless it is on a loopback address";

    /// <summary>The discovery document's keys and issuer, through IdentityModel's configuration manager.</summary>
    public ConfigurationManager<OpenIdConnectConfiguration> DiscoveryManager(string discovery) =>
        new(discovery, new OpenIdConnectConfigurationRetriever(), new HttpDocumentRetriever(http) { RequireHttps = !new Uri(discovery).IsLoopback });

    /// <summary>Every checkpoint the endpoint serves from <paramref name="url"/> on, following <c>next</c>.</summary>
    public async Task<IReadOnlyList<string>> FetchAsync(Uri url, CancellationToken cancellationToken)
    {
        if (url.AbsolutePath.TrimEnd('/').EndsWith("/latest", StringComparison.Ordinal))
        {
            using var latest = await http.GetAsync(url, cancellationToken);
            latest.EnsureSuccessStatusCode();
            return [(await latest.Content.ReadAsStringAsync(cancellationToken)).Trim()];
        }

        var tokens = new List<string>();
        var page = url;
        long after = -1;
        for (var pages = 0; pages < MaxPages; pages++)
        {
            using var response = await http.GetAsync(page, cancellationToken);
            response.EnsureSuccessStatusCode();
            using var document = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
            tokens.AddRange(Tokens(document.RootElement));
            if (!document.RootElement.TryGetProperty("next", out var next) || next.GetString() is not { } cursor)
            {
                return tokens;
            }

            if (!long.TryParse(cursor, System.Globalization.CultureInfo.InvariantCulture, out var following) || following <= after)
            {
                throw new InvalidDataException($"{page} names a next page that does not move forward ({cursor})");
            }

            after = following;
            var query = QueryHelpers.ParseQuery(url.Query);
            query["after"] = cursor;
            page = new Uri(QueryHelpers.AddQueryString(url.GetLeftPart(UriPartial.Path), query));
        }

        throw new InvalidDataException($"{url} has more than {MaxPages} pages");
    }

    /// <summary>A file as the endpoint serves it (<c>{"checkpoints": [...]}</c>), or one compact JWS per line.</summary>
    public static async Task<IReadOnlyList<string>> ReadFileAsync(string file, CancellationToken cancellationToken)
    {
        var text = await File.ReadAllTextAsync(file, cancellationToken);
        if (text.TrimStart().StartsWith('{'))
        {
            using var document = JsonDocument.Parse(text);
            return [.. Tokens(document.RootElement)];
        }

        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
    }

    private static IEnumerable<string> Tokens(JsonElement root) =>
        root.TryGetProperty("checkpoints", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(t => t.GetString() ?? throw new InvalidDataException("a checkpoint is not a string")).ToList()
            : throw new InvalidDataException("no \"checkpoints\" array");
}
