using System.Collections.Immutable;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// RFC 8414 §2: a server that lists <c>private_key_jwt</c> among an endpoint's authentication methods must also list
/// the algorithms it accepts for those assertions. Strict clients (OpenID4VCI wallets among them) refuse metadata
/// without them. The list is <see cref="ClientAssertionAlgorithms.Accepted"/>, which the assertion check enforces.
/// </summary>
public sealed class AdvertiseClientAssertionAlgorithms : IOpenIddictServerHandler<HandleConfigurationRequestContext>
{
    private static readonly string[] Endpoints = ["token_endpoint", "introspection_endpoint", "revocation_endpoint"];

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleConfigurationRequestContext>()
        .UseSingletonHandler<AdvertiseClientAssertionAlgorithms>()
        .SetOrder(Discovery.AttachScopes.Descriptor.Order + 200)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(HandleConfigurationRequestContext context)
    {
        foreach (var endpoint in Endpoints)
        {
            context.Metadata[endpoint + "_auth_signing_alg_values_supported"] = new OpenIddictParameter(ClientAssertionAlgorithms.Accepted.ToImmutableArray<string?>());
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>The signature algorithms of client assertions (RFC 7523): asymmetric only, since client secrets are kept as hashes.</summary>
public static class ClientAssertionAlgorithms
{
    public static IReadOnlyList<string> Accepted { get; } = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];
}
