using Microsoft.IdentityModel.Tokens;

namespace Tessera.Credentials.SdJwt;

/// <summary>How strict verification is. The defaults are the safe ones.</summary>
public sealed record SdJwtVerificationPolicy
{
    /// <summary>Asymmetric JWS algorithms only: an HMAC keyed with a published key would let anyone sign.</summary>
    public static readonly IReadOnlyList<string> DefaultAlgorithms =
    [
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
    ];

    /// <summary>Accepted <c>alg</c> of the issuer-signed JWT; <c>none</c> is refused whatever this says.</summary>
    public IReadOnlyCollection<string> AllowedAlgorithms { get; init; } = DefaultAlgorithms;

    /// <summary>Accepted <c>alg</c> of the key-binding JWT.</summary>
    public IReadOnlyCollection<string> AllowedKeyBindingAlgorithms { get; init; } = DefaultAlgorithms;

    /// <summary>Accepted <c>typ</c> headers of the issuer-signed JWT (explicit typing, RFC 9901 §9.11).</summary>
    public IReadOnlyCollection<string> AllowedTypes { get; init; } = ["dc+sd-jwt"];

    /// <summary>Accepted <c>_sd_alg</c> values (§4.1.1); an absent <c>_sd_alg</c> means sha-256.</summary>
    public IReadOnlyCollection<string> AllowedDigestAlgorithms { get; init; } = ["sha-256"];

    /// <summary>When true (the default) a presentation without a key-binding JWT is refused (§7.3 step 3).</summary>
    public bool RequireKeyBinding { get; init; } = true;

    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How old a key-binding JWT's <c>iat</c> may be (§7.3 step 5.d).</summary>
    public TimeSpan KeyBindingMaxAge { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Upper bound of the whole serialization, checked before anything is decoded.</summary>
    public int MaxLength { get; init; } = 256 * 1024;

    public int MaxDisclosures { get; init; } = 512;
}

/// <summary>The keys that sign for an issuer, supplied by the caller from its configuration or the issuer's metadata.</summary>
public sealed record SdJwtIssuerTrust(IReadOnlyList<SecurityKey> Keys)
{
    /// <summary>When set, the processed <c>iss</c> must equal it.</summary>
    public string? Issuer { get; init; }
}

/// <summary>What the verifier asked the holder for: the key-binding JWT must name this audience and nonce (§7.3 step 5.e).</summary>
public sealed record KeyBindingExpectation(string Audience, string Nonce);
