using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Tessera.Validation;

/// <summary>
/// How an API trusts Tessera's access tokens: whose tokens (<see cref="Authority"/>), for which API
/// (<see cref="Audience"/>), how long a validated token is trusted before Tessera is asked again
/// (<see cref="RecheckAfter"/>), and where Tessera pushes revocations (<see cref="Signals"/>).
/// Bound from the <c>Tessera</c> configuration section or set in code.
/// </summary>
public sealed class TesseraValidationOptions
{
    /// <summary>The algorithms accepted when <see cref="Algorithms"/> is not set.</summary>
    public static readonly IReadOnlyList<string> DefaultAlgorithms = ["ES256", "RS256"];

    /// <summary>Tessera's issuer URL; its discovery document is <c>{Authority}/.well-known/openid-configuration</c>.</summary>
    public string Authority { get; set; } = "";

    /// <summary>This API's identifier: the <c>aud</c> every accepted token must carry.</summary>
    public string Audience { get; set; } = "";

    /// <summary>
    /// How long a validated token is trusted from the cache before Tessera's introspection endpoint is asked again;
    /// never beyond the token's expiry. <see cref="TimeSpan.Zero"/>: ask on every request.
    /// <see cref="Timeout.InfiniteTimeSpan"/>: never ask (local validation and pushed revocations only).
    /// </summary>
    public TimeSpan RecheckAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// When Tessera cannot be reached at recheck time, how long past the recheck a token is still trusted.
    /// Zero (the default): it is refused (fail closed).
    /// </summary>
    public TimeSpan UnreachableGrace { get; set; } = TimeSpan.Zero;

    /// <summary>This API's client id at Tessera, for introspection (client_secret_basic).</summary>
    public string? ClientId { get; set; }

    /// <summary>This API's client secret at Tessera, for introspection.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>Tolerance for clock differences on <c>exp</c>, <c>nbf</c> and <c>iat</c>.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Signature algorithms accepted; null means <see cref="DefaultAlgorithms"/>. Asymmetric only.</summary>
    public IReadOnlyList<string>? Algorithms { get; set; }

    /// <summary>Shortest time between two key-set fetches caused by tokens signed with an unknown key id.</summary>
    public TimeSpan KeyRefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Most tokens kept in the validation cache; expired ones are evicted first.</summary>
    public int MaxCachedTokens { get; set; } = 10_000;

    /// <summary>
    /// How long a pushed session revocation or account disable is remembered, so tokens first seen later are
    /// refused too. Keep it longer than Tessera's access token lifetime.
    /// </summary>
    public TimeSpan RevocationRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Timeout of each request to Tessera (discovery, key set, introspection).</summary>
    public TimeSpan BackchannelTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Handler for requests to Tessera; null uses a pooled <see cref="SocketsHttpHandler"/>.</summary>
    public HttpMessageHandler? BackchannelHandler { get; set; }

    /// <summary>
    /// Where Tessera's discovery document and keys come from; null (the default) builds one from
    /// <see cref="Authority"/>. Set it to serve a fixed configuration (a <c>StaticConfigurationManager</c>).
    /// </summary>
    public IConfigurationManager<OpenIdConnectConfiguration>? ConfigurationManager { get; set; }

    /// <summary>The receiver of Tessera's Security Event Tokens.</summary>
    public TesseraSignalOptions Signals { get; set; } = new();

    internal IReadOnlyList<string> EffectiveAlgorithms => Algorithms is { Count: > 0 } algorithms ? algorithms : DefaultAlgorithms;

    internal string EffectiveSignalAudience => string.IsNullOrEmpty(Signals.Audience) ? Audience : Signals.Audience;

    internal bool RechecksNever => RecheckAfter == Timeout.InfiniteTimeSpan;
}
