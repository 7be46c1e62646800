using System.Runtime.CompilerServices;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Validation;

/// <summary>
/// What one kind of Tessera JWT must say beyond the signature: its <c>typ</c> header values, its audience, and
/// whether it carries a lifetime. The validation parameters are built once per fetched configuration and shared.
/// </summary>
internal sealed class JwtProfile(string name, IReadOnlyList<string> types, string audience, bool hasLifetime)
{
    private readonly ConditionalWeakTable<OpenIdConnectConfiguration, TokenValidationParameters> _parameters = [];

    /// <summary>What the token is to a reader ("access token", "SET"), for descriptions.</summary>
    public string Name { get; } = name;

    public IReadOnlyList<string> Types { get; } = types;

    /// <summary>Whether the token must carry <c>exp</c> (and is checked against it and <c>nbf</c>).</summary>
    public bool HasLifetime { get; } = hasLifetime;

    public TokenValidationParameters Parameters(OpenIdConnectConfiguration configuration, TesseraValidationOptions options) =>
        _parameters.GetValue(configuration, c => new TokenValidationParameters
        {
            ValidIssuers = IssuerNames.Of(options.Authority),
            ValidAudience = audience,
            ValidAlgorithms = options.EffectiveAlgorithms,
            IssuerSigningKeys = c.SigningKeys,
            TryAllIssuerSigningKeys = false,
            RequireSignedTokens = true,
            RequireAudience = true,
            // The lifetime is checked by TesseraJwtVerifier on the injected clock.
            RequireExpirationTime = false,
            ValidateLifetime = false,
            NameClaimType = "sub",
            RoleClaimType = "role",
            AuthenticationType = TesseraValidationDefaults.AuthenticationScheme,
        });
}
