using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using Tessera.Keys;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// Tokens are signed and encrypted with the key ring's current keys, so a rotation takes effect without a
/// restart. ID and access tokens (and JWTs issued by exchange) use the algorithm the client is registered for (ES256 unless it asks for RS256).
/// </summary>
public sealed class SignWithKeyRing(KeyRing keys, ClientRegistry clients) : IOpenIddictServerHandler<GenerateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
        .UseSingletonHandler<SignWithKeyRing>()
        .SetOrder(Protection.AttachSecurityCredentials.Descriptor.Order + 100)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(GenerateTokenContext context)
    {
        var algorithm = context.TokenType is TokenTypeIdentifiers.AccessToken or TokenTypeIdentifiers.IdentityToken or Exchange.ExchangeTokenTypes.Jwt
            ? clients.Find(context.ClientId)?.SigningAlgorithm ?? SecurityAlgorithms.EcdsaSha256
            : SecurityAlgorithms.EcdsaSha256;
        context.SigningCredentials = keys.SigningCredentials(algorithm);
        if (context.EncryptionCredentials is not null)
        {
            context.EncryptionCredentials = keys.EncryptingCredentials();
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>Tokens Tessera issued are checked against every key of the ring that has not expired.</summary>
public sealed class ValidateWithKeyRing(KeyRing keys) : IOpenIddictServerHandler<ValidateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
        .UseSingletonHandler<ValidateWithKeyRing>()
        .SetOrder(Protection.ResolveTokenValidationParameters.Descriptor.Order + 100)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(ValidateTokenContext context)
    {
        // Client assertions are verified with the client's own keys, never Tessera's.
        if (context.ValidTokenTypes.Contains(TokenTypeIdentifiers.Private.ClientAssertion))
        {
            return ValueTask.CompletedTask;
        }

        context.TokenValidationParameters.IssuerSigningKeys = keys.VerificationKeys().ToList();
        context.TokenValidationParameters.TokenDecryptionKeys = keys.DecryptionKeys().ToList();
        return ValueTask.CompletedTask;
    }
}

/// <summary>The JWKS endpoint publishes the ring: pre-published keys before they sign, retired keys until they expire.</summary>
public sealed class PublishKeyRing(KeyRing keys) : IOpenIddictServerHandler<HandleJsonWebKeySetRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleJsonWebKeySetRequestContext>()
        .UseSingletonHandler<PublishKeyRing>()
        .SetOrder(Discovery.AttachSigningKeys.Descriptor.Order + 100)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(HandleJsonWebKeySetRequestContext context)
    {
        context.Keys.Clear();
        foreach (var key in keys.PublishedSigningKeys())
        {
            var jwk = key.Key switch
            {
                ECDsaSecurityKey ecdsa => JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ExportPublic(ecdsa))),
                RsaSecurityKey rsa => JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.Rsa.ExportParameters(false))),
                _ => null,
            };
            if (jwk is null)
            {
                continue;
            }

            jwk.Kid = key.Id;
            jwk.Use = JsonWebKeyUseNames.Sig;
            jwk.Alg = key.Algorithm;
            context.Keys.Add(jwk);
        }

        return ValueTask.CompletedTask;
    }

    private static System.Security.Cryptography.ECDsa ExportPublic(ECDsaSecurityKey key)
    {
        var ecdsa = System.Security.Cryptography.ECDsa.Create();
        ecdsa.ImportParameters(key.ECDsa.ExportParameters(false));
        return ecdsa;
    }
}
