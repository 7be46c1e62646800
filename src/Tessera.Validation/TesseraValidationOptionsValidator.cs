using Microsoft.Extensions.Options;

namespace Tessera.Validation;

/// <summary>Refuses, at start, options that could not work or would weaken validation; every problem is listed.</summary>
internal sealed class TesseraValidationOptionsValidator : IValidateOptions<TesseraValidationOptions>
{
    /// <summary>Asymmetric JWS algorithms (RFC 7518 §3.1); <c>none</c> and HMAC are never accepted.</summary>
    private static readonly HashSet<string> AsymmetricAlgorithms = new(StringComparer.Ordinal)
    {
        "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
    };

    public ValidateOptionsResult Validate(string? name, TesseraValidationOptions options)
    {
        var problems = new List<string>();

        if (!Uri.TryCreate(options.Authority, UriKind.Absolute, out var authority) || authority.Scheme is not ("https" or "http"))
        {
            problems.Add("Authority must be Tessera's issuer, an absolute http(s) URL.");
        }
        else if (authority.Scheme == "http" && !authority.IsLoopback)
        {
            problems.Add("Authority must use https (plain http is accepted for loopback addresses only).");
        }
        else if (!string.IsNullOrEmpty(authority.Query) || !string.IsNullOrEmpty(authority.Fragment))
        {
            problems.Add("Authority must not have a query or fragment.");
        }

        if (string.IsNullOrWhiteSpace(options.Audience))
        {
            problems.Add("Audience is required: the identifier Tessera puts in this API's tokens (aud).");
        }

        if ((options.RecheckAfter < TimeSpan.Zero || options.RecheckAfter > TimeSpan.FromDays(7)) && !options.RechecksNever)
        {
            problems.Add("RecheckAfter must be between zero and 7 days (or Timeout.InfiniteTimeSpan, never).");
        }

        if (!options.RechecksNever && (string.IsNullOrWhiteSpace(options.ClientId) || string.IsNullOrEmpty(options.ClientSecret)))
        {
            problems.Add("ClientId and ClientSecret are required to ask Tessera again after RecheckAfter (introspection).");
        }

        if (options.UnreachableGrace < TimeSpan.Zero || options.UnreachableGrace > TimeSpan.FromDays(1))
        {
            problems.Add("UnreachableGrace must be between zero and one day.");
        }

        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > TimeSpan.FromMinutes(5))
        {
            problems.Add("ClockSkew must be between zero and 5 minutes.");
        }

        if (options.Algorithms?.FirstOrDefault(a => !AsymmetricAlgorithms.Contains(a)) is { } algorithm)
        {
            problems.Add($"Algorithm '{algorithm}' is not accepted; use asymmetric ones (ES256, RS256, PS256, ...).");
        }

        if (options.KeyRefreshInterval < TimeSpan.FromSeconds(1))
        {
            problems.Add("KeyRefreshInterval must be at least one second.");
        }

        if (options.MaxCachedTokens < 1)
        {
            problems.Add("MaxCachedTokens must be at least 1.");
        }

        if (options.RevocationRetention <= TimeSpan.Zero)
        {
            problems.Add("RevocationRetention must be positive.");
        }

        if (options.BackchannelTimeout <= TimeSpan.Zero)
        {
            problems.Add("BackchannelTimeout must be positive.");
        }

        var signals = options.Signals;
        if (signals.Enabled)
        {
            if (!signals.Path.StartsWith('/') || signals.Path.Length < 2)
            {
                problems.Add("Signals.Path must be an absolute path such as /tessera/signals.");
            }

            if (signals.Authorization is { } authorization && string.IsNullOrWhiteSpace(authorization))
            {
                problems.Add("Signals.Authorization, when set, must not be blank.");
            }

            if (signals.MaxBodyBytes is < 1024 or > 1024 * 1024)
            {
                problems.Add("Signals.MaxBodyBytes must be between 1 KiB and 1 MiB.");
            }

            if (signals.ReplayRetention <= TimeSpan.Zero)
            {
                problems.Add("Signals.ReplayRetention must be positive.");
            }
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
