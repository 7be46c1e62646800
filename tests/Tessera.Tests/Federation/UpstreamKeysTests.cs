using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Federation;

public sealed class UpstreamKeysTests
{
    [Fact]
    public async Task Upstream_keys_are_cached_between_sign_ins()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var first = env.Server.CreateBrowser();
        using var second = env.Server.CreateBrowser();

        await env.SignInAsync(first);
        var fetches = env.Idp.JwksRequests;
        await env.SignInAsync(second);

        Assert.Equal(1, fetches);
        Assert.Equal(fetches, env.Idp.JwksRequests);
    }

    [Fact]
    public async Task An_upstream_key_rotation_is_picked_up_with_one_refresh_on_the_unknown_kid()
    {
        await using var env = await BrokeredSignIn.StartAsync();
        using var first = env.Server.CreateBrowser();
        await env.SignInAsync(first);
        var fetches = env.Idp.JwksRequests;

        env.Idp.RotateKey(dropOld: true);
        using var second = env.Server.CreateBrowser();
        var (_, tokens) = await env.SignInAsync(second);

        Assert.Equal(200, tokens.Status);
        Assert.Equal(fetches + 1, env.Idp.JwksRequests);
    }
}
