using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// Oversized protocol parameters are refused before any lookup or parsing: tokens and assertions may be up to
/// 16 KiB, everything else 2 KiB, and a request carries at most 64 parameters.
/// </summary>
public sealed class LimitParameterSizes : IOpenIddictServerHandler<ProcessRequestContext>
{
    public const int MaxTokenLength = 16 * 1024;
    public const int MaxValueLength = 2 * 1024;
    public const int MaxParameters = 64;

    private static readonly HashSet<string> TokenParameters = new(StringComparer.Ordinal)
    {
        Parameters.Token, Parameters.IdTokenHint, Parameters.ClientAssertion, Parameters.Assertion, Parameters.RefreshToken,
        Parameters.Code, Parameters.Request, Parameters.SubjectToken, Parameters.ActorToken, Parameters.AccessToken,
    };

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessRequestContext>()
        .UseSingletonHandler<LimitParameterSizes>()
        .SetOrder(100_500) // after every Extract*Request (100 000), before every Validate*Request (101 000)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(ProcessRequestContext context)
    {
        if (Violation(context.Transaction.Request) is { } problem)
        {
            context.Reject(Errors.InvalidRequest, problem);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>What is too large about the request, or null. Oversized requests are never echoed to a redirect URI.</summary>
    public static string? Violation(OpenIddict.Abstractions.OpenIddictRequest? request)
    {
        if (request is null)
        {
            return null;
        }

        if (request.Count > MaxParameters)
        {
            return "The request carries too many parameters.";
        }

        foreach (var (name, value) in request.GetParameters())
        {
            var limit = TokenParameters.Contains(name) ? MaxTokenLength : MaxValueLength;
            if (name.Length > 100 || (value.ToString()?.Length ?? 0) > limit)
            {
                return $"The '{(name.Length > 100 ? name[..100] : name)}' parameter is too long.";
            }
        }

        return null;
    }
}
