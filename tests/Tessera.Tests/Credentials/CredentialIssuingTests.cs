using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using Tessera.Audit;
using Tessera.Credentials;
using Tessera.Credentials.SdJwt;
using Tessera.Credentials.Status;
using Tessera.Credentials.Vc;
using Tessera.Hosting;
using Tessera.Sessions;
using Tessera.Storage;
using Tessera.Tests.Infrastructure;

namespace Tessera.Tests.Credentials;

/// <summary>
/// OpenID4VCI issuing end to end: metadata, an offer with a pre-authorized code and transaction code, the nonce, the
/// proof, an SD-JWT VC that a strict verifier accepts with the keys Tessera publishes, and its status list entry,
/// which deprovisioning and an operator's revocation turn invalid within their request.
/// </summary>
public sealed class CredentialIssuingTests
{
    public const string AgeVct = "https://tessera.example/vct/age";

    /// <summary>The issuer as Tessera spells it in what it signs (with the trailing slash of a path-less URL).</summary>
    public static readonly string Issuer = new TesseraIssuer(TesseraTestServer.Issuer).Name;

    internal static void Configure(TesseraOptions options)
    {
        AdminApi.AddClients(options);
        if (!options.Organizations.Any(o => o.Id == TestConfiguration.Organization))
        {
            options.Organizations.Add(new OrganizationOptions
            {
                Id = TestConfiguration.Organization,
                Domains = ["stmarys.example"],
                Connections = [new ConnectionOptions { Id = TestConfiguration.Connection, Protocol = "oidc", Authority = "https://idp.stmarys.example", ClientId = "tessera", ClientSecret = "upstream-secret-0123456789" }],
            });
        }

        options.Organizations.Single(o => o.Id == TestConfiguration.Organization).Rules.Add(new RuleOptions
        {
            When = new() { ["groups"] = "Doctors" },
            Grant = new GrantOptions { Claims = new() { ["staff_role"] = "doctor" } },
        });
        options.Organizations.Add(new OrganizationOptions { Id = "elsewhere", Domains = ["elsewhere.example"] });
        options.Credentials.Add(new CredentialOptions
        {
            Id = "age",
            Vct = AgeVct,
            Organizations = [TestConfiguration.Organization],
            Claims = new() { ["age_equal_or_over"] = new CredentialClaimOptions { From = "birthdate", Thresholds = [18, 21, 65] } },
            Disclosable = ["age_equal_or_over"],
        });
        options.Credentials.Add(new CredentialOptions
        {
            Id = "employee",
            Vct = "https://tessera.example/vct/employee",
            Organizations = [TestConfiguration.Organization],
            Claims = new()
            {
                ["org"] = new() { From = "org" },
                ["role"] = new() { From = "staff_role" },
                ["given_name"] = new() { From = "given_name" },
                ["email"] = new() { From = "email" },
            },
            Disclosable = ["role", "given_name", "email"],
        });
    }

    internal static async Task<UserRecord> AddUserAsync(TesseraTestServer server, string birthdate = "1990-05-01", string organization = TestConfiguration.Organization)
    {
        var user = new UserRecord
        {
            Id = Guid.NewGuid(),
            OrganizationId = organization,
            Email = "alice@stmarys.example",
            GivenName = "Alice",
            CreatedAt = DateTime.UtcNow,
            UpdatedAt = DateTime.UtcNow,
            Attributes = $$"""{"birthdate":["{{birthdate}}"],"groups":["Doctors"]}""",
        };
        await server.WithDbAsync(async db =>
        {
            db.Users.Add(user);
            return await db.SaveChangesAsync();
        });
        return user;
    }

    /// <summary>An offer made through the Admin API, redeemed with its transaction code: the access token.</summary>
    internal static async Task<string> PreAuthorizedTokenAsync(TesseraTestServer server, UserRecord user, string credential = "age")
    {
        var offer = await OfferAsync(server, user, credential);
        using var http = server.CreateClient();
        var token = await RedeemAsync(http, Code(offer), offer["tx_code"]!.GetValue<string>());
        Assert.True(token.Status == 200, token.Body?.ToJsonString());
        return token.Body!["access_token"]!.GetValue<string>();
    }

    internal static async Task<JsonObject> OfferAsync(TesseraTestServer server, UserRecord user, string credential = "age")
    {
        using var admin = await AdminApi.PlatformAsync(server);
        using var response = await admin.PostAsync($"users/{user.Id}/credential-offers", new StringContent($$"""{"credential":"{{credential}}","tx_code":true}""", Encoding.UTF8, "application/json"));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.True((int)response.StatusCode == 201, body.ToJsonString());
        return body;
    }

    internal static string Code(JsonObject offer) =>
        offer["credential_offer"]!["grants"]![CredentialOffers.PreAuthorizedGrant]!["pre-authorized_code"]!.GetValue<string>();

    internal static async Task<(int Status, JsonObject? Body)> RedeemAsync(HttpClient http, string? code, string? txCode, string grant = CredentialOffers.PreAuthorizedGrant)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = grant };
        if (code is not null)
        {
            form["pre-authorized_code"] = code;
        }

        if (txCode is not null)
        {
            form["tx_code"] = txCode;
        }

        using var response = await http.PostAsync("credentials/token", new FormUrlEncodedContent(form));
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length > 0 ? JsonNode.Parse(text) as JsonObject : null);
    }

    /// <summary>Verifies as a strict verifier would: keys from Tessera's published JWT VC issuer metadata only.</summary>
    internal static async Task<VerifiedCredential> VerifyAsync(TesseraTestServer server, string presentation, string audience, string nonce)
    {
        using var http = server.CreateClient();
        var metadata = JwtVcIssuerMetadata.Read(await http.GetStringAsync(".well-known/jwt-vc-issuer"), Issuer);
        Assert.True(metadata.Succeeded, metadata.Failure?.ToString());
        var verified = await new SdJwtVcVerifier(TimeProvider.System).VerifyAsync(presentation,
            new SdJwtIssuerTrust([.. metadata.Value!.Keys]) { Issuer = Issuer },
            new SdJwtVcVerificationPolicy { AllowedVcts = [AgeVct, "https://tessera.example/vct/employee"], RequireStatus = true },
            new KeyBindingExpectation(audience, nonce));
        Assert.True(verified.Succeeded, verified.Failure?.ToString());
        return verified.Value!;
    }

    internal static async Task<TokenStatus> StatusAsync(TesseraTestServer server, StatusReference reference)
    {
        using var http = server.CreateClient();
        var token = await http.GetStringAsync(reference.Uri);
        var list = await new StatusListTokens(TimeProvider.System).VerifyAsync(token, [.. server.Keys.VerificationKeys()], reference.Uri);
        Assert.True(list.Succeeded, list.Failure?.ToString());
        var status = list.Value!.Lookup(reference);
        Assert.True(status.Succeeded, status.Failure?.ToString());
        return status.Value!.Status;
    }

    [Fact]
    public async Task The_issuer_publishes_its_metadata_its_keys_and_each_types_metadata()
    {
        await using var server = await TesseraTestServer.StartAsync(Configure);
        using var http = server.CreateClient();

        var metadata = JsonNode.Parse(await http.GetStringAsync(".well-known/openid-credential-issuer"))!;
        Assert.Equal(Issuer, metadata["credential_issuer"]!.GetValue<string>());
        Assert.Equal("http://localhost/credentials/credential", metadata["credential_endpoint"]!.GetValue<string>());
        Assert.Equal("http://localhost/credentials/nonce", metadata["nonce_endpoint"]!.GetValue<string>());
        var age = metadata["credential_configurations_supported"]!["age"]!;
        Assert.Equal("dc+sd-jwt", age["format"]!.GetValue<string>());
        Assert.Equal(AgeVct, age["vct"]!.GetValue<string>());
        Assert.Equal("credential:age", age["scope"]!.GetValue<string>());

        var keys = JsonNode.Parse(await http.GetStringAsync(".well-known/jwt-vc-issuer"))!;
        Assert.Equal(Issuer, keys["issuer"]!.GetValue<string>());
        Assert.NotEmpty(keys["jwks"]!["keys"]!.AsArray());
        Assert.DoesNotContain("\"d\"", keys.ToJsonString(), StringComparison.Ordinal);

        var type = JsonNode.Parse(await http.GetStringAsync("credentials/types/age"))!;
        Assert.Equal(AgeVct, type["vct"]!.GetValue<string>());
        Assert.Contains(type["claims"]!.AsArray(), c => c!["path"]!.ToJsonString() == """["age_equal_or_over","21"]""" && c["sd"]!.GetValue<string>() == "always");

        var server8414 = JsonNode.Parse(await http.GetStringAsync(".well-known/oauth-authorization-server/credentials"))!;
        Assert.Equal("http://localhost/credentials/token", server8414["token_endpoint"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_wallet_with_a_pre_authorized_code_receives_an_age_credential_that_proves_over_21_and_nothing_else()
    {
        await using var server = await TesseraTestServer.StartAsync(Configure);
        var user = await AddUserAsync(server);
        var token = await PreAuthorizedTokenAsync(server, user);
        using var http = server.CreateClient();
        using var wallet = new TestWallet(http, Issuer);

        var credential = await wallet.CredentialAsync(token, "age");

        Assert.DoesNotContain("1990", Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(credential.Split('.')[1])), StringComparison.Ordinal);
        Assert.DoesNotContain("birthdate", credential, StringComparison.Ordinal);
        var presentation = wallet.Present(credential, [ClaimPath.Of("age_equal_or_over", "21")], "https://bar.example", "n-1");
        var verified = await VerifyAsync(server, presentation, "https://bar.example", "n-1");
        var ages = verified.Claims["age_equal_or_over"]!.AsObject();
        Assert.True(ages["21"]!.GetValue<bool>());
        Assert.Single(ages); // neither 18 nor 65 was disclosed
        Assert.Equal(TokenStatus.Valid, await StatusAsync(server, verified.Status!));

        var audit = await server.AuditAsync();
        Assert.Contains(audit, a => a.Event == AuditEvents.CredentialOffered && a.UserId == user.Id.ToString());
        Assert.Contains(audit, a => a.Event == AuditEvents.CredentialIssued && a.UserId == user.Id.ToString());
    }

    [Fact]
    public async Task The_age_thresholds_follow_the_birth_date_on_the_day_of_issuance()
    {
        await using var server = await TesseraTestServer.StartAsync(Configure);
        var nineteen = DateOnly.FromDateTime(DateTime.UtcNow).AddYears(-19).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var user = await AddUserAsync(server, nineteen);
        using var http = server.CreateClient();
        using var wallet = new TestWallet(http, Issuer);

        var credential = await wallet.CredentialAsync(await PreAuthorizedTokenAsync(server, user), "age");
        var verified = await VerifyAsync(server, wallet.Present(credential, [ClaimPath.Of("age_equal_or_over")], "v", "n"), "v", "n");

        var ages = verified.Claims["age_equal_or_over"]!.AsObject();
        Assert.Equal((true, false, false), (ages["18"]!.GetValue<bool>(), ages["21"]!.GetValue<bool>(), ages["65"]!.GetValue<bool>()));
    }

    [Fact]
    public async Task Deprovisioning_the_user_and_revoking_the_credential_turn_its_status_invalid_within_the_request()
    {
        await using var server = await TesseraTestServer.StartAsync(Configure);
        var alice = await AddUserAsync(server);
        var bob = await AddUserAsync(server);
        using var http = server.CreateClient();
        using var wallet = new TestWallet(http, Issuer);
        var aliceCredential = await wallet.CredentialAsync(await PreAuthorizedTokenAsync(server, alice), "age");
        var bobCredential = await wallet.CredentialAsync(await PreAuthorizedTokenAsync(server, bob), "age");
        var aliceStatus = (await VerifyAsync(server, wallet.Present(aliceCredential, [], "v", "n"), "v", "n")).Status!;
        var bobStatus = (await VerifyAsync(server, wallet.Present(bobCredential, [], "v", "n"), "v", "n")).Status!;

        await using (var scope = server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<RevocationService>().DisableUserAsync(alice.Id, "scim_deactivated", "scim", null, CancellationToken.None);
        }

        Assert.Equal(TokenStatus.Invalid, await StatusAsync(server, aliceStatus));
        Assert.Equal(TokenStatus.Valid, await StatusAsync(server, bobStatus));

        using var admin = await AdminApi.PlatformAsync(server);
        var listed = JsonNode.Parse(await admin.GetStringAsync($"users/{bob.Id}/credentials"))!["items"]!.AsArray();
        var id = Assert.Single(listed)!["id"]!.GetValue<string>();
        using var revoked = await admin.PostAsync($"credentials/{id}/revoke", null);
        Assert.Equal(200, (int)revoked.StatusCode);
        Assert.Equal(TokenStatus.Invalid, await StatusAsync(server, bobStatus));

        var audit = await server.AuditAsync();
        Assert.Contains(audit, a => a.Event == AuditEvents.UserAccessRevoked && a.UserId == alice.Id.ToString() && a.Detail!.Contains("\"credentials\":\"1\"", StringComparison.Ordinal));
        Assert.Contains(audit, a => a.Event == AuditEvents.CredentialRevoked && a.UserId == bob.Id.ToString());
    }

    [Fact]
    public async Task A_sign_in_keeps_on_the_user_only_the_upstream_claims_a_credential_or_a_rule_reads()
    {
        await using var withCredentials = await BrokeredSignIn.StartAsync(Configure);
        await withCredentials.SignInAsync(withCredentials.Server.CreateBrowser());
        await using var without = await BrokeredSignIn.StartAsync();
        await without.SignInAsync(without.Server.CreateBrowser());

        var kept = await withCredentials.Server.WithDbAsync(db => db.Users.Select(u => u.Attributes).SingleAsync());
        var none = await without.Server.WithDbAsync(db => db.Users.Select(u => u.Attributes).SingleAsync());

        // The rule reads groups and the staff card takes email; nothing takes sub, name or the upstream's other claims.
        Assert.Equal(["email", "groups"], JsonNode.Parse(kept)!.AsObject().Select(p => p.Key).Order());
        Assert.Equal("{}", none);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_wallet_signed_in_through_the_organizations_idp_receives_a_staff_card_by_the_authorization_code_flow(bool namesTheIssuerAsResource)
    {
        await using var signIn = await BrokeredSignIn.StartAsync(options =>
        {
            Configure(options);
            var wallet = options.Clients.Single(c => c.ClientId == TestConfiguration.PublicClient);
            wallet.Scopes.Add("credential:employee");
            wallet.Audiences = ["https://reports.example"]; // the credential issuer is added to what the client's tokens are for
        });
        var browser = signIn.Server.CreateBrowser();
        var extra = new Dictionary<string, string?> { ["login_hint"] = signIn.Idp.Person.Email };
        if (namesTheIssuerAsResource)
        {
            extra["resource"] = Issuer; // RFC 8707
        }

        var (_, tokens) = await signIn.SignInAsync(browser, "openid credential:employee", extra);
        using var wallet = new TestWallet(signIn.Http, Issuer);

        var credential = await wallet.CredentialAsync(tokens["access_token"]!, "employee");

        var verified = await VerifyAsync(signIn.Server, wallet.Present(credential, [ClaimPath.Of("role")], "v", "n"), "v", "n");
        Assert.Equal("doctor", verified.Claims["role"]!.GetValue<string>());
        Assert.Equal(TestConfiguration.Organization, verified.Claims["org"]!.GetValue<string>()); // in the clear
        Assert.False(verified.Claims.ContainsKey("email"));
        Assert.False(verified.Claims.ContainsKey("given_name"));
    }

    [Fact]
    public async Task A_credential_scoped_token_the_wallet_asked_for_another_resource_is_refused_at_the_credential_endpoint()
    {
        await using var signIn = await BrokeredSignIn.StartAsync(options =>
        {
            Configure(options);
            var wallet = options.Clients.Single(c => c.ClientId == TestConfiguration.PublicClient);
            wallet.Scopes.Add("credential:employee");
            wallet.Audiences = ["https://reports.example"];
        });
        var (_, tokens) = await signIn.SignInAsync(signIn.Server.CreateBrowser(), "openid credential:employee",
            new Dictionary<string, string?> { ["login_hint"] = signIn.Idp.Person.Email, ["resource"] = "https://reports.example" });
        using var wallet = new TestWallet(signIn.Http, Issuer);

        var (status, body) = await wallet.RequestAsync(tokens["access_token"]!, TestWallet.Request("employee", wallet.Proof(await wallet.NonceAsync())));

        Assert.Equal((401, "invalid_token"), (status, body!["error"]!.GetValue<string>()));
        Assert.Equal(0, await signIn.Server.WithDbAsync(db => Task.FromResult(db.IssuedCredentials.Count())));
    }
}
