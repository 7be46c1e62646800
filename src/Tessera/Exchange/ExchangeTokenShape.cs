using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Exchange;

/// <summary>
/// A token issued as <c>urn:ietf:params:oauth:token-type:jwt</c> is a plain JWT (<c>typ</c> JWT) that carries
/// its audience, scopes and a <c>jti</c>, like the access token it stands in for.
/// </summary>
public sealed class ShapeIssuedJwt : IOpenIddictServerHandler<GenerateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
        .UseSingletonHandler<ShapeIssuedJwt>()
        .SetOrder(Protection.GenerateIdentityModelToken.Descriptor.Order - 10)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(GenerateTokenContext context)
    {
        if (context.TokenType != ExchangeTokenTypes.Jwt || context.Principal is not { } principal)
        {
            return ValueTask.CompletedTask;
        }

        // Signed only: it is for an API to read, not for Tessera to read back, so it is neither encrypted nor
        // carries OpenIddict's private claims.
        context.EncryptionCredentials = null;
        context.SecurityTokenDescriptor.EncryptingCredentials = null;
        context.SecurityTokenDescriptor.TokenType = "JWT";
        if (context.SecurityTokenDescriptor.Subject is { } subject)
        {
            foreach (var claim in subject.Claims.Where(c => c.Type.StartsWith("oi_", StringComparison.Ordinal)).ToList())
            {
                subject.RemoveClaim(claim);
            }
        }

        var claims = context.SecurityTokenDescriptor.Claims ??= new Dictionary<string, object>(StringComparer.Ordinal);
        if (principal.GetScopes() is { IsDefaultOrEmpty: false } scopes)
        {
            claims[Claims.Scope] = string.Join(' ', scopes);
        }

        var audiences = principal.GetAudiences();
        if (!audiences.IsDefaultOrEmpty)
        {
            claims[Claims.Audience] = audiences.Length == 1 ? audiences[0] : audiences.ToArray();
        }

        claims[Claims.JwtId] = Guid.NewGuid().ToString();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// The answer to a token exchange. RFC 8693 §2.2.1: it names the scopes it granted. §2.2.2: a subject or actor
/// token that is invalid for any reason is <c>invalid_request</c>, including Tessera's own tokens that OpenIddict
/// refused (revoked, expired, of another type), which OpenIddict reports as <c>invalid_grant</c>.
/// </summary>
public sealed class CompleteExchangeResponse : IOpenIddictServerHandler<ApplyTokenResponseContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
        .UseSingletonHandler<CompleteExchangeResponse>()
        .SetOrder(OpenIddictServerHandlers.Exchange.NormalizeErrorResponse.Descriptor.Order + 100)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(ApplyTokenResponseContext context)
    {
        if (context.Request?.IsTokenExchangeGrantType() != true)
        {
            return ValueTask.CompletedTask;
        }

        var record = ExchangeRecord.Of(context.Transaction);
        if (string.IsNullOrEmpty(context.Response.Error))
        {
            context.Response.Scope ??= record.Scopes;
        }
        else if (context.Response.Error == Errors.InvalidGrant && record.Rule is null)
        {
            record.Rule = "token_invalid";
            context.Response.Error = Errors.InvalidRequest;
        }

        return ValueTask.CompletedTask;
    }
}
