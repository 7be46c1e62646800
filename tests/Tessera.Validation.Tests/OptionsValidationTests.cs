using Microsoft.Extensions.Options;

namespace Tessera.Validation.Tests;

/// <summary>Settings refused at start, one row per mistake, each with the words its message must contain.</summary>
public sealed class OptionsValidationTests
{
    public static readonly Dictionary<string, (Action<TesseraValidationOptions> Change, string Message)> Cases = new()
    {
        ["authority_missing"] = (o => o.Authority = "", "Authority"),
        ["authority_relative"] = (o => o.Authority = "/tessera", "Authority"),
        ["authority_plain_http_off_loopback"] = (o => o.Authority = "http://tessera.example", "https"),
        ["authority_with_query"] = (o => o.Authority = "https://tessera.example/?tenant=1", "query"),
        ["audience_missing"] = (o => o.Audience = " ", "Audience"),
        ["recheck_without_client_secret"] = (o => o.ClientSecret = null, "ClientSecret"),
        ["recheck_negative"] = (o => o.RecheckAfter = TimeSpan.FromMinutes(-1), "RecheckAfter"),
        ["recheck_beyond_a_week"] = (o => o.RecheckAfter = TimeSpan.MaxValue, "RecheckAfter"),
        ["grace_negative"] = (o => o.UnreachableGrace = TimeSpan.FromSeconds(-1), "UnreachableGrace"),
        ["skew_of_an_hour"] = (o => o.ClockSkew = TimeSpan.FromHours(1), "ClockSkew"),
        ["algorithm_none"] = (o => o.Algorithms = ["none"], "'none'"),
        ["algorithm_hmac"] = (o => o.Algorithms = ["ES256", "HS256"], "'HS256'"),
        ["key_refresh_every_millisecond"] = (o => o.KeyRefreshInterval = TimeSpan.FromMilliseconds(1), "KeyRefreshInterval"),
        ["cache_of_no_tokens"] = (o => o.MaxCachedTokens = 0, "MaxCachedTokens"),
        ["signals_path_relative"] = (o => o.Signals.Path = "signals", "Signals.Path"),
        ["signals_authorization_blank"] = (o => o.Signals.Authorization = "  ", "Signals.Authorization"),
        ["signals_body_limit_of_ten_megabytes"] = (o => o.Signals.MaxBodyBytes = 10 * 1024 * 1024, "Signals.MaxBodyBytes"),
    };

    public static TheoryData<string> Mistakes => [.. Cases.Keys];

    [Fact]
    public void Good_options_pass()
    {
        Assert.True(Validate(_ => { }).Succeeded);
        Assert.True(Validate(o => o.Authority = "http://127.0.0.1:5080").Succeeded);
        Assert.True(Validate(o => (o.RecheckAfter, o.ClientId, o.ClientSecret) = (Timeout.InfiniteTimeSpan, null, null)).Succeeded);
    }

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void Mistaken_options_are_refused_naming_the_setting(string mistake)
    {
        var result = Validate(Cases[mistake].Change);

        Assert.True(result.Failed);
        Assert.Contains(Cases[mistake].Message, result.FailureMessage, StringComparison.Ordinal);
    }

    private static ValidateOptionsResult Validate(Action<TesseraValidationOptions> change)
    {
        var options = new TesseraValidationOptions
        {
            Authority = "https://tessera.example",
            Audience = "https://orders.internal",
            ClientId = "orders-api",
            ClientSecret = "secret",
        };
        change(options);
        return new TesseraValidationOptionsValidator().Validate(null, options);
    }
}
