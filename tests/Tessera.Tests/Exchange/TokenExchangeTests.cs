using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Tests.Infrastructure;
using static Tessera.Tests.Infrastructure.ExchangeArrangement;

namespace Tessera.Tests.Exchange;

public sealed class TokenExchangeTests : IAsyncLifetime
{
    private ExchangeArrangement _x = null!;

    public async Task InitializeAsync() => _x = await ExchangeArrangement.StartAsync();

    public async Task DisposeAsync() => await _x.DisposeAsync();

    [Fact]
    public async Task A_partner_token_becomes_a_Tessera_access_token_for_the_policy_audience()
    {
        var response = await _x.ExchangeAsync(_x.PortalToken(), extra: new Dictionary<string, string?> { ["scope"] = "write:orders" });

        Assert.True(response.Status == 200, response.Json.ToString());
        Assert.Equal(AccessTokenType, response["issued_token_type"]);
        Assert.Equal("Bearer", response["token_type"]);
        Assert.Equal("write:orders", response["scope"]);
        var token = response.AccessToken;
        Assert.Equal("at+jwt", token.Typ);
        Assert.Equal([TestConfiguration.OrdersAudience], token.Audiences);
        Assert.Equal("write:orders", token.GetPayloadValue<string>("scope"));
        Assert.True(Guid.TryParse(token.Subject, out _), token.Subject);
        Assert.Equal(Gateway, token.GetPayloadValue<string>("client_id"));
        Assert.False(token.TryGetPayloadValue<object>("act", out _));
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token.EncodedToken, new TokenValidationParameters
        {
            ValidIssuer = TesseraTestServer.Issuer + "/",
            ValidAudience = TestConfiguration.OrdersAudience,
            IssuerSigningKeys = (await _x.JwksAsync()).GetSigningKeys(),
            ValidTypes = ["at+jwt"],
        });
        Assert.True(result.IsValid, result.Exception?.Message);
    }
}
