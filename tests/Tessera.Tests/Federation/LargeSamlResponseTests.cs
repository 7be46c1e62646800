using Tessera.Saml.Tests.Infrastructure;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Federation;

/// <summary>What a big directory sends: the ACS reads a SAMLResponse as large as the validator parses, well past a form field's usual limits.</summary>
public sealed class LargeSamlResponseTests
{
    [Fact]
    public async Task An_assertion_with_a_thousand_group_values_signs_in()
    {
        await using var host = await SamlSignIn.StartAsync();
        using var browser = host.Browser();
        var groups = Enumerable.Range(1, 1000)
            .Select(i => ("groups", $"CN=Ward {i:D4} Clinical Staff (Cardiology and Internal Medicine),OU=Security Groups,OU=St Marys Hospital,DC=stmarys,DC=example"))
            .ToList();
        var started = await host.BeginAsync(browser);
        var spec = SamlSignIn.Spec(started.RequestId);
        var document = TestSamlIdentityProvider.Build(spec with { Attributes = [.. spec.Attributes, .. groups] });
        TestSamlIdentityProvider.Sign(TestSamlIdentityProvider.Assertion(document));
        var encoded = TestSamlIdentityProvider.Encode(document);
        Assert.InRange(encoded.Length, 150_000, 250_000);

        var outcome = await host.PostAsync(browser, encoded, started.RelayState, started.Verifier);

        Assert.True(outcome.Code is not null, $"{(int)outcome.Response.StatusCode} {await outcome.Response.Content.ReadAsStringAsync()}");
        var tokens = await Oauth.RedeemAsync(host.Http, TestConfiguration.PublicClient, null, TestConfiguration.PublicRedirect, outcome);
        Assert.Equal(200, tokens.Status);
        Assert.Contains("doctor_access", tokens.AccessToken.GetClaim("scope").Value.Split(' '));
        Assert.DoesNotContain(await host.Server.AuditAsync(), a => a.Event == "request.refused");
    }
}
