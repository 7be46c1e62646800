using Tessera.Hosting;

namespace Tessera.Credentials;

/// <summary>
/// A presentation an app may ask Tessera to verify (OpenID4VP 1.0): the DCQL query sent to the wallet, which clients
/// may ask for it, and which disclosed claims become which claims of the result Tessera gives the app.
/// </summary>
public sealed class PresentationOptions
{
    /// <summary>What an app names when it asks for this presentation.</summary>
    public string Id { get; set; } = "";

    /// <summary>The DCQL query (OpenID4VP 1.0 §6), format <c>dc+sd-jwt</c> only.</summary>
    [InlineJson]
    public string Query { get; set; } = "";

    /// <summary>Clients (confidential, registered) that may ask for it.</summary>
    public List<string> Clients { get; set; } = [];

    /// <summary>
    /// Output claim name to the claims path (names only) it is read from in a presented credential, for example
    /// <c>"age_over_21": ["age_equal_or_over", "21"]</c>. The path must be one the query asks for; only a claim the
    /// holder actually disclosed reaches the result.
    /// </summary>
    public Dictionary<string, List<string>> Claims { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How long the wallet has to answer; between one minute and 30 minutes.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(5);
}
