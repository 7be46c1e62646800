using Tessera.Federation;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Federation;

/// <summary>
/// A connection test that cannot even begin because the IdP's discovery document is wrong or out of reach: the
/// redirect is refused as before, and its diagnosis says which URL Tessera read and what it found there.
/// </summary>
public sealed class OidcMetadataDiagnosisTests
{
    public static TheoryData<string, string?, string?, string, string> Rows => new()
    {
        // pitfall, issuer the discovery document names, Authority override, expected error, expected check
        { "discovery document copied from another tenant", "https://login.elsewhere.example/tenant-b", null, "upstream_metadata_invalid", UpstreamChecks.Issuer },
        { "Authority where no identity provider answers", null, "http://127.0.0.1:9", "upstream_unavailable", UpstreamChecks.Metadata },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task A_connection_whose_metadata_is_wrong_says_where_it_looked(string pitfall, string? discoveryIssuer, string? authority, string error, string check)
    {
        await using var env = await BrokeredSignIn.StartAsync(options =>
        {
            if (authority is not null)
            {
                options.Organizations.Single().Connections.Single().Authority = authority;
            }
        });
        env.Idp.DiscoveryIssuer = discoveryIssuer;
        var configured = authority ?? env.Idp.Issuer;

        var redirect = await ConnectorRun.BeginAsync(env.Server, TestConfiguration.Connection);

        Assert.True(redirect.Location is null, $"{pitfall}: began");
        Assert.Equal(error, redirect.Error);
        var diagnosis = redirect.Diagnosis;
        Assert.NotNull(diagnosis);
        Assert.Equal(check, diagnosis.Check);
        Assert.Contains(configured + "/.well-known/openid-configuration", diagnosis.Hint, StringComparison.Ordinal);
        if (discoveryIssuer is not null)
        {
            Assert.Equal(configured, diagnosis.Expected);
            Assert.Equal(discoveryIssuer, diagnosis.Received);
            Assert.Contains("Authority", diagnosis.Hint, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(configured + "/.well-known/openid-configuration", diagnosis.Expected);
            Assert.Contains("refused", diagnosis.Received, StringComparison.OrdinalIgnoreCase);
        }
    }
}
