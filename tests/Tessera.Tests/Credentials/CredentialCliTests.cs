using System.Text.Json.Nodes;
using Tessera.Credentials;
using Tessera.Tests.Hosting;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Credentials;

/// <summary><c>tessera credentials offer</c>, run in-process as an operator would, against a running server's database.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class CredentialCliTests
{
    [Fact]
    public async Task An_offer_made_on_the_command_line_is_redeemed_by_the_wallet_with_its_transaction_code()
    {
        await using var server = await TesseraTestServer.StartAsync(CredentialIssuingTests.Configure);
        var user = await CredentialIssuingTests.AddUserAsync(server);
        var file = ConfigurationFile.Write(server.Options);

        var (exit, output, _) = await CommandLine.RunAsync("credentials", "offer", "--config", file, user.Id.ToString(), "--credential", "age");
        var (unknown, _, refusal) = await CommandLine.RunAsync("credentials", "offer", "--config", file, Guid.NewGuid().ToString(), "--credential", "age");

        Assert.Equal(0, exit);
        Assert.Equal(1, unknown);
        Assert.Contains("no offer was made", refusal, StringComparison.Ordinal);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var uri = Assert.Single(lines, l => l.StartsWith("openid-credential-offer://", StringComparison.Ordinal));
        var offer = JsonNode.Parse(Uri.UnescapeDataString(uri[(uri.IndexOf('=', StringComparison.Ordinal) + 1)..]))!.AsObject();
        var pin = Assert.Single(lines, l => l.StartsWith("Transaction code", StringComparison.Ordinal))[^6..];
        using var http = server.CreateClient();
        var token = await CredentialIssuingTests.RedeemAsync(http, offer["grants"]![CredentialOffers.PreAuthorizedGrant]!["pre-authorized_code"]!.GetValue<string>(), pin);
        Assert.True(token.Status == 200, token.Body?.ToJsonString());
        using var wallet = new TestWallet(http, CredentialIssuingTests.Issuer);
        Assert.NotEmpty(await wallet.CredentialAsync(token.Body!["access_token"]!.GetValue<string>(), "age"));
    }
}
