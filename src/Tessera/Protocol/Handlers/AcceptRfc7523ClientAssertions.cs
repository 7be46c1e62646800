using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// RFC 7523 §3 as clients implement it: OpenIddict 7 accepts only assertions typed <c>client-authentication+jwt</c>
/// and addressed to the issuer (the newer profile). Most client libraries send <c>typ: JWT</c> (or none) and address
/// the token endpoint, so both are accepted too. The audience is still one of exactly two Tessera URLs.
/// </summary>
public sealed class AcceptRfc7523ClientAssertions : IOpenIddictServerHandler<ValidateTokenContext>
{
    private const string AssertionType = "client-authentication+jwt";

    private static readonly HashSet<string> AcceptedTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "JWT", "application/JWT", AssertionType, "application/" + AssertionType,
    };

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
        .UseSingletonHandler<AcceptRfc7523ClientAssertions>()
        .SetOrder(Protection.ResolveTokenValidationParameters.Descriptor.Order + 200)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(ValidateTokenContext context)
    {
        if (context.ValidTokenTypes.Count != 1 || !context.ValidTokenTypes.Contains(TokenTypeIdentifiers.Private.ClientAssertion))
        {
            return ValueTask.CompletedTask;
        }

        context.TokenValidationParameters.TypeValidator = (type, _, _) =>
            string.IsNullOrEmpty(type) || AcceptedTypes.Contains(type)
                ? AssertionType
                : throw new SecurityTokenInvalidTypeException("The client assertion has an unexpected type.") { InvalidType = type };

        context.TokenValidationParameters.ValidAlgorithms = ClientAssertionAlgorithms.Accepted;

        var issuer = context.Options.Issuer ?? context.BaseUri;
        if (issuer is not null)
        {
            context.ValidAudiences.Add(new Uri(issuer, "token").AbsoluteUri);
        }

        return ValueTask.CompletedTask;
    }
}
