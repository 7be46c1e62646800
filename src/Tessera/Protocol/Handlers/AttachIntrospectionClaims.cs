using System.Collections.Immutable;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// RFC 7662 §2.2: an authorized caller (see <see cref="AuthorizeIntrospectionByAudience"/>) learns the scopes and
/// the claims of an active access token. Replaces OpenIddict's handler, which tells only clients named in <c>aud</c>.
/// </summary>
public sealed class AttachIntrospectionClaims : IOpenIddictServerHandler<HandleIntrospectionRequestContext>
{
    private static readonly HashSet<string> Metadata = new(StringComparer.Ordinal)
    {
        Claims.Audience, Claims.ExpiresAt, Claims.IssuedAt, Claims.Issuer, Claims.NotBefore, Claims.Scope, Claims.Subject,
        Claims.JwtId, Claims.ClientId, Claims.TokenUsage, Claims.TokenType, Claims.Username, Claims.Active, "cnf",
    };

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleIntrospectionRequestContext>()
        .UseSingletonHandler<AttachIntrospectionClaims>()
        .SetOrder(Introspection.AttachApplicationClaims.Descriptor.Order)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(HandleIntrospectionRequestContext context)
    {
        var principal = context.GenericTokenPrincipal;
        if (principal is null || !principal.HasTokenType(TokenTypeIdentifiers.AccessToken))
        {
            return ValueTask.CompletedTask;
        }

        context.Scopes.UnionWith(principal.GetScopes());
        foreach (var group in principal.Claims.GroupBy(c => c.Type, StringComparer.Ordinal))
        {
            if (Metadata.Contains(group.Key) || group.Key.StartsWith(Claims.Prefixes.Private, StringComparison.Ordinal))
            {
                continue;
            }

            var values = group.Select(c => c.Value).ToArray();
            context.Claims[group.Key] = values.Length == 1 ? new OpenIddictParameter(values[0]) : new OpenIddictParameter(values.ToImmutableArray<string?>());
        }

        return ValueTask.CompletedTask;
    }
}
