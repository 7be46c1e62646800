namespace Tessera.Hosting;

/// <summary>Checks <c>RequestLimits</c>: every body limit within reach of what its endpoint must accept, and the parameter limits within the body limits.</summary>
public static class RequestLimitsValidator
{
    private const int Floor = 1024;
    private const int Ceiling = 16 * 1024 * 1024;

    /// <summary>The smallest ACS body that still holds the largest SAMLResponse the validator parses, once base64 and form encoded.</summary>
    private const int SamlAcsFloor = 384 * 1024;

    public static void Validate(TesseraOptions options, Action<string, string> error)
    {
        const string path = "$.Tessera.RequestLimits";
        var limits = options.RequestLimits;
        var bodies = limits.MaxBodyBytes;
        foreach (var (name, value) in new[]
        {
            ("Token", bodies.Token), ("Introspection", bodies.Introspection), ("Revocation", bodies.Revocation), ("UserInfo", bodies.UserInfo),
            ("Authorization", bodies.Authorization), ("EndSession", bodies.EndSession), ("SamlAcs", bodies.SamlAcs),
            ("SignalPoll", bodies.SignalPoll), ("Scim", bodies.Scim), ("Pages", bodies.Pages), ("Admin", bodies.Admin), ("Portal", bodies.Portal),
        })
        {
            if (value is < Floor or > Ceiling)
            {
                error($"{path}.MaxBodyBytes.{name}", $"must be between {Floor} and {Ceiling} bytes");
            }
        }

        if (bodies.SamlAcs is >= Floor and < SamlAcsFloor)
        {
            error($"{path}.MaxBodyBytes.SamlAcs", $"must be at least {SamlAcsFloor} bytes: a SAMLResponse of 256 KiB (the most Tessera parses) needs that much once encoded");
        }

        if (limits.MaxParameters is < 8 or > 1000)
        {
            error($"{path}.MaxParameters", "must be between 8 and 1000");
        }

        if (limits.MaxParameterLength is < 256 || limits.MaxParameterLength > limits.MaxTokenParameterLength)
        {
            error($"{path}.MaxParameterLength", "must be at least 256 and at most MaxTokenParameterLength");
        }

        if (limits.MaxTokenParameterLength is < Floor || limits.MaxTokenParameterLength > bodies.Token)
        {
            error($"{path}.MaxTokenParameterLength", $"must be at least {Floor} and at most MaxBodyBytes.Token: a token longer than the body that carries it could never arrive");
        }
    }
}
