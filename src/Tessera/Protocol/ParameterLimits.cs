using OpenIddict.Abstractions;
using Tessera.Hosting;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Tessera.Protocol;

/// <summary>
/// How long an OAuth parameter may be (<c>RequestLimits</c>): tokens and assertions up to MaxTokenParameterLength,
/// everything else up to MaxParameterLength, and at most MaxParameters of them.
/// </summary>
public sealed class ParameterLimits(RequestLimitOptions limits)
{
    private const int MaxNameLength = 100;

    private static readonly HashSet<string> TokenParameters = new(StringComparer.Ordinal)
    {
        Parameters.Token, Parameters.IdTokenHint, Parameters.ClientAssertion, Parameters.Assertion, Parameters.RefreshToken,
        Parameters.Code, Parameters.Request, Parameters.SubjectToken, Parameters.ActorToken, Parameters.AccessToken,
    };

    /// <summary>What is too large about the request, or null. Oversized requests are never echoed to a redirect URI.</summary>
    public string? Violation(OpenIddictRequest? request)
    {
        if (request is null)
        {
            return null;
        }

        if (request.Count > limits.MaxParameters)
        {
            return "The request carries too many parameters.";
        }

        foreach (var (name, value) in request.GetParameters())
        {
            var limit = TokenParameters.Contains(name) ? limits.MaxTokenParameterLength : limits.MaxParameterLength;
            if (name.Length > MaxNameLength || (value.ToString()?.Length ?? 0) > limit)
            {
                return $"The '{(name.Length > MaxNameLength ? name[..MaxNameLength] : name)}' parameter is too long.";
            }
        }

        return null;
    }
}
