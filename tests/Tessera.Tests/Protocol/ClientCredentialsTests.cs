using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Protocol;

public sealed class ClientCredentialsTests : IAsyncLifetime
{
    private TesseraTestServer _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _server = await TesseraTestServer.StartAsync();
        _http = _server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Client_credentials_issue_an_RFC9068_access_token_verifiable_with_the_published_keys()
    {
        var response = await Oauth.ClientCredentialsAsync(_http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret, "write:orders");

        Assert.Equal(200, response.Status);
        Assert.Equal("Bearer", response["token_type"]);
        var token = response.AccessToken;
        Assert.Equal("at+jwt", token.Typ);
        Assert.Equal("ES256", token.Alg);
        Assert.Equal(TestConfiguration.ServiceClient, token.Subject);
        Assert.Equal(TestConfiguration.ServiceClient, token.GetPayloadValue<string>("client_id"));
        Assert.Equal("write:orders", token.GetPayloadValue<string>("scope"));
        Assert.Equal([TestConfiguration.OrdersAudience], token.Audiences);
        Assert.False(string.IsNullOrEmpty(token.Id));

        var jwks = new JsonWebKeySet(await _http.GetStringAsync(".well-known/jwks.json"));
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token.EncodedToken, new TokenValidationParameters
        {
            ValidIssuer = TesseraTestServer.Issuer + "/",
            ValidAudience = TestConfiguration.OrdersAudience,
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidTypes = ["at+jwt"],
            ValidAlgorithms = ["ES256"],
        });
        Assert.True(result.IsValid, result.Exception?.Message);
    }

    [Fact]
    public async Task Without_a_scope_the_client_gets_all_of_its_API_scopes()
    {
        var response = await Oauth.ClientCredentialsAsync(_http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret);

        Assert.Equal(200, response.Status);
        Assert.Equal(["read:orders", "write:orders"], response.AccessToken.GetPayloadValue<string>("scope").Split(' ').Order());
    }

    [Fact]
    public async Task A_requested_resource_becomes_the_audience_when_the_client_is_registered_for_it()
    {
        var response = await Oauth.ClientCredentialsAsync(_http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret, "write:orders", TestConfiguration.OrdersAudience);

        Assert.Equal(200, response.Status);
        Assert.Equal([TestConfiguration.OrdersAudience], response.AccessToken.Audiences);
    }

    [Fact]
    public async Task Client_secret_post_is_accepted_as_well_as_basic()
    {
        var response = await Oauth.TokenAsync(_http, new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = TestConfiguration.ServiceClient,
            ["client_secret"] = TestConfiguration.ServiceSecret,
        });

        Assert.Equal(200, response.Status);
    }

    [Fact]
    public async Task Client_credentials_tokens_are_not_written_to_the_token_table()
    {
        var response = await Oauth.ClientCredentialsAsync(_http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret);

        Assert.Equal(200, response.Status);
        Assert.False(string.IsNullOrEmpty(response["access_token"]), response.Json.ToString());

        var stored = await _server.WithDbAsync(db => Task.FromResult(db.Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken>().Count()));
        Assert.Equal(0, stored);
    }

    [Fact]
    public async Task Issuance_is_audited_without_the_token()
    {
        var response = await Oauth.ClientCredentialsAsync(_http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret);

        var audit = await _server.AuditAsync();
        var issued = Assert.Single(audit, a => a.Event == "token.issued");
        Assert.Equal(TestConfiguration.ServiceClient, issued.ClientId);
        Assert.Contains("client_credentials", issued.Detail);
        Assert.Contains("\"scope\":\"write:orders read:orders\"", issued.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(response["access_token"]!, string.Join("|", audit.Select(a => a.Detail + a.Reason)));
    }

    [Fact]
    public async Task A_client_registered_for_RS256_gets_RS256_tokens()
    {
        await using var server = await TesseraTestServer.StartAsync(options => options.Clients.Single(c => c.ClientId == TestConfiguration.ServiceClient).SigningAlgorithm = "RS256");
        using var http = server.CreateClient();

        var response = await Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, TestConfiguration.ServiceSecret);

        Assert.Equal("RS256", response.AccessToken.Alg);
    }
}
