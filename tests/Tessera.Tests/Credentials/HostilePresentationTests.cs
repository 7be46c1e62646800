using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;
using Tessera.Audit;
using Tessera.Credentials;
using Tessera.Credentials.SdJwt;
using Tessera.Tests.Infrastructure;
using static Tessera.Tests.Credentials.TestVerifierApp;

namespace Tessera.Tests.Credentials;

/// <summary>
/// Hostile answers and requests at the verifier's endpoints: each refused with its named reason and the protocol's
/// error, none answered 5xx, and none giving the app a result.
/// </summary>
public sealed class HostilePresentationTests
{
    /// <summary>What a row gets to spoil: the wallet, its credentials (one revoked), and the request object it is answering.</summary>
    public sealed record Scene(TestWallet Wallet, string Credential, string Revoked, JsonObject RequestObject)
    {
        public string ClientId => RequestObject["client_id"]!.GetValue<string>();

        public string Nonce => RequestObject["nonce"]!.GetValue<string>();

        /// <summary>The disclosures an honest wallet shows for "21": the age object and the 21 inside it.</summary>
        public IReadOnlyList<Disclosure> Honest(string credential) => SdJwtHolder.Read(credential).Value!.DisclosuresFor([ClaimPath.Of("age_equal_or_over", "21")]).Value!;

        public string Present(string credential, IEnumerable<string> disclosures, string? audience = null, string? nonce = null, DateTimeOffset? issuedAt = null,
            string? sdHash = null, bool keyBound = true, string? issuerSigned = null)
        {
            var presented = (issuerSigned ?? credential.Split('~')[0]) + "~" + string.Concat(disclosures.Select(d => d + "~"));
            return keyBound ? KeyBound(Wallet, presented, audience ?? ClientId, nonce ?? Nonce, issuedAt, sdHash) : presented;
        }

        public string HonestlyPresented(string credential) => Present(credential, Honest(credential).Select(d => d.Encoded));
    }

    private static readonly ECDsaSecurityKey Stranger = new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    private static string Expired(TestWallet wallet) => DmvCredential(wallet, time: new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(-60)));

    private static string NoneSigned(string credential)
    {
        var parts = credential.Split('~')[0].Split('.');
        var header = JsonNode.Parse(Base64UrlEncoder.Decode(parts[0]))!.AsObject();
        header["alg"] = "none";
        return Base64UrlEncoder.Encode(header.ToJsonString()) + "." + parts[1] + ".";
    }

    public static TheoryData<string, Func<Scene, string>, string> AnswerRows => new()
    {
        { "digest mismatch: a disclosure of 21 the issuer never hashed", s => VpToken(s.Present(s.Credential, s.Honest(s.Credential).Select(d => d.ClaimName == "21" ? Disclosure.ForProperty("21", true).Encoded : d.Encoded))), "disclosure_unreferenced" },
        { "duplicated disclosure", s => VpToken(s.Present(s.Credential, [.. s.Honest(s.Credential).Select(d => d.Encoded), s.Honest(s.Credential).Single(d => d.ClaimName == "21").Encoded])), "disclosure_duplicated" },
        { "disclosure of a claim not in _sd (a birth date)", s => VpToken(s.Present(s.Credential, [.. s.Honest(s.Credential).Select(d => d.Encoded), Disclosure.ForProperty("birthdate", "1990-05-01").Encoded])), "disclosure_unreferenced" },
        { "_sd_alg not allowed (sha-512)", s => VpToken(s.Present(DmvCredential(s.Wallet), s.Honest(DmvCredential(s.Wallet)).Select(d => d.Encoded), issuerSigned: Resigned(DmvCredential(s.Wallet).Split('~')[0], p => p["_sd_alg"] = "sha-512", DmvKey))), "digest_algorithm_unsupported" },
        { "issuer-signed JWT with alg none", s => VpToken(s.Present(s.Credential, s.Honest(s.Credential).Select(d => d.Encoded), issuerSigned: NoneSigned(s.Credential))), "algorithm_not_allowed" },
        { "credential signed by a key the trusted issuer does not have", s => VpToken(s.HonestlyPresented(DmvCredential(s.Wallet, key: Stranger))), "signature_invalid" },
        { "KB-JWT with the wrong nonce", s => VpToken(s.Present(s.Credential, s.Honest(s.Credential).Select(d => d.Encoded), nonce: "another-nonce")), "key_binding_nonce_mismatch" },
        { "KB-JWT for the wrong audience", s => VpToken(s.Present(s.Credential, s.Honest(s.Credential).Select(d => d.Encoded), audience: "redirect_uri:https://evil.example/response")), "key_binding_audience_mismatch" },
        { "KB-JWT with the wrong sd_hash", s => VpToken(s.Present(s.Credential, s.Honest(s.Credential).Select(d => d.Encoded), sdHash: Base64UrlEncoder.Encode(new byte[32]))), "key_binding_sd_hash_mismatch" },
        { "KB-JWT with a stale iat", s => VpToken(s.Present(s.Credential, s.Honest(s.Credential).Select(d => d.Encoded), issuedAt: DateTimeOffset.UtcNow.AddMinutes(-20))), "key_binding_stale" },
        { "presentation without key binding", s => VpToken(s.Present(s.Credential, s.Honest(s.Credential).Select(d => d.Encoded), keyBound: false)), "key_binding_missing" },
        { "revoked credential", s => VpToken(s.HonestlyPresented(s.Revoked)), "revoked" },
        { "expired credential", s => VpToken(s.HonestlyPresented(Expired(s.Wallet))), "expired" },
        { "untrusted issuer", s => VpToken(s.HonestlyPresented(DmvCredential(s.Wallet, issuer: "https://evil.example", key: Stranger))), "untrusted_issuer" },
        { "vct not allowed from that issuer", s => VpToken(s.HonestlyPresented(DmvCredential(s.Wallet, vct: "https://dmv.state.example/vct/other"))), "vct_not_allowed" },
        { "query not answered: 18 disclosed where 21 was asked", s => VpToken(s.Present(s.Credential, SdJwtHolder.Read(s.Credential).Value!.DisclosuresFor([ClaimPath.Of("age_equal_or_over", "18")]).Value!.Select(d => d.Encoded))), "query_not_answered" },
        { "query not answered: nothing for the credential query", s => "{}", "query_not_answered" },
        { "vp_token answering a query that was not asked", s => new JsonObject { ["age"] = new JsonArray(s.HonestlyPresented(s.Credential)), ["passport"] = new JsonArray("x") }.ToJsonString(), "malformed_vp_token" },
        { "vp_token that is not JSON", s => "{{{", "malformed_vp_token" },
        { "vp_token in the draft shape (a bare presentation)", s => s.HonestlyPresented(s.Credential), "malformed_vp_token" },
        { "two presentations where one is allowed", s => VpToken(s.HonestlyPresented(s.Credential), s.HonestlyPresented(s.Credential)), "malformed_vp_token" },
        { "presentation that is not an SD-JWT", s => VpToken("not-an-sd-jwt"), "malformed" },
    };

    [Theory]
    [MemberData(nameof(AnswerRows))]
    public async Task A_hostile_answer_is_refused_with_its_reason_and_the_app_gets_no_result(string attack, Func<Scene, string> make, string reason)
    {
        await using var server = await TesseraTestServer.StartAsync(Configure);
        using var http = server.CreateClient();
        using var wallet = new TestWallet(http, CredentialIssuingTests.Issuer);
        var alice = await CredentialIssuingTests.AddUserAsync(server);
        var bob = await CredentialIssuingTests.AddUserAsync(server);
        var credential = await wallet.CredentialAsync(await CredentialIssuingTests.PreAuthorizedTokenAsync(server, alice), "age");
        var revoked = await wallet.CredentialAsync(await CredentialIssuingTests.PreAuthorizedTokenAsync(server, bob), "age");
        await server.WithDbAsync(db => db.IssuedCredentials.Where(c => c.UserId == bob.Id).ExecuteUpdateAsync(set => set.SetProperty(c => c.RevokedAt, DateTime.UtcNow)));
        var created = await CreateAsync(http);
        var requestObject = await RequestObjectAsync(http, created);

        var (status, body) = await PostAsync(http, requestObject, make(new Scene(wallet, credential, revoked, requestObject)));

        Assert.True(status == 400, $"{attack}: {status} {body.ToJsonString()}");
        Assert.Equal("invalid_request", body["error"]!.GetValue<string>());
        Assert.StartsWith(reason + ":", body["error_description"]!.GetValue<string>(), StringComparison.Ordinal);
        var (redeemed, result) = await RedeemAsync(http, created["request_id"]!.GetValue<string>(), "any");
        Assert.Equal((400, "access_denied"), PresentationVerifierTests.Error((redeemed, result)));
        Assert.False(result.ContainsKey("token"));
        var audit = await server.AuditAsync();
        Assert.Contains(audit, a => a.Event == AuditEvents.PresentationRefused && a.Reason == reason);
        Assert.DoesNotContain(audit, a => a.Event == AuditEvents.PresentationVerified);
        Assert.DoesNotContain(audit, a => a.Event == AuditEvents.PresentationRefused && (a.Detail ?? "").Contains("1990", StringComparison.Ordinal));
    }

    /// <summary>The app's and wallet's endpoints, a row each: an honest wallet answered first where the row needs it.</summary>
    public sealed record Endpoints(TesseraTestServer Server, HttpClient Http, TestWallet Wallet, string Credential)
    {
        public async Task<(JsonObject Created, JsonObject RequestObject, JsonObject Answer)> AnsweredAsync()
        {
            var created = await CreateAsync(Http);
            var requestObject = await RequestObjectAsync(Http, created);
            var (status, answer) = await PostAsync(Http, requestObject, VpToken(Answer(Wallet, Credential, requestObject)));
            Assert.True(status == 200, answer.ToJsonString());
            return (created, requestObject, answer);
        }

        public Task<(int, JsonObject)> Expire(JsonObject created) => Server.WithDbAsync(async db =>
        {
            var id = created["request_id"]!.GetValue<string>();
            await db.PresentationRequests.Where(r => r.Id == id).ExecuteUpdateAsync(set => set.SetProperty(r => r.ExpiresAt, DateTime.UtcNow.AddSeconds(-1)));
            return (0, new JsonObject());
        });

        public Task<(int Status, JsonObject Body)> Send(string path, HttpContent content) => SendAsync(Http, new HttpRequestMessage(HttpMethod.Post, path) { Content = content });
    }

    private static string Id(JsonObject created) => created["request_id"]!.GetValue<string>();

    public static TheoryData<string, Func<Endpoints, Task<(int Status, JsonObject Body)>>, int, string> EndpointRows => new()
    {
        { "request without client authentication", e => e.Send("presentations/requests", new FormUrlEncodedContent(new Dictionary<string, string> { ["presentation"] = Presentation })), 401, "invalid_client" },
        { "request with a wrong client secret", e => SendAsync(e.Http, Authenticated("presentations/requests", new() { ["presentation"] = Presentation }, secret: "wrong-secret-0123456789")), 401, "invalid_client" },
        { "request by a client the presentation does not name", e => SendAsync(e.Http, Authenticated("presentations/requests", new() { ["presentation"] = Presentation }, TestConfiguration.ServiceClient)), 403, "unauthorized_client" },
        { "request for an unknown presentation", e => SendAsync(e.Http, Authenticated("presentations/requests", new() { ["presentation"] = "passport" })), 400, "invalid_request" },
        { "request naming an unregistered redirect_uri", e => SendAsync(e.Http, Authenticated("presentations/requests", new() { ["presentation"] = Presentation, ["redirect_uri"] = "https://evil.example/cb" })), 400, "invalid_request" },
        { "request sent as JSON", e => e.Send("presentations/requests", new StringContent("""{"presentation":"over-21"}""", Encoding.UTF8, "application/json")), 400, "invalid_request" },
        { "request object of an unknown request", async e => await SendAsync(e.Http, new HttpRequestMessage(HttpMethod.Get, "presentations/requests/unknown")), 404, "invalid_request_uri" },
        { "request object of an answered request", async e => await SendAsync(e.Http, new HttpRequestMessage(HttpMethod.Get, (await e.AnsweredAsync()).Created["request_uri"]!.GetValue<string>())), 404, "invalid_request_uri" },
        { "answer with a state Tessera never issued", async e => await PostAsync(e.Http, await RequestObjectAsync(e.Http, await CreateAsync(e.Http)), "{}", state: "made-up"), 400, "invalid_request" },
        { "answer to an expired request", async e => { var created = await CreateAsync(e.Http); var ro = await RequestObjectAsync(e.Http, created); await e.Expire(created); return await PostAsync(e.Http, ro, VpToken(Answer(e.Wallet, e.Credential, ro))); }, 400, "invalid_request" },
        { "answer posted again (reused state)", async e => { var (_, ro, _) = await e.AnsweredAsync(); return await PostAsync(e.Http, ro, VpToken(Answer(e.Wallet, e.Credential, ro))); }, 400, "invalid_request" },
        { "answer sent as JSON", e => e.Send("presentations/response", new StringContent("""{"vp_token":{},"state":"x"}""", Encoding.UTF8, "application/json")), 400, "invalid_request" },
        { "answer encrypted (direct_post.jwt), which is not offered", e => e.Send("presentations/response", new FormUrlEncodedContent(new Dictionary<string, string> { ["response"] = "eyJ.x.y" })), 400, "invalid_request" },
        { "answer with a repeated parameter", e => e.Send("presentations/response", new StringContent("state=a&state=b&vp_token=%7B%7D", Encoding.UTF8, "application/x-www-form-urlencoded")), 400, "invalid_request" },
        { "answer larger than any presentation", e => e.Send("presentations/response", new FormUrlEncodedContent(new Dictionary<string, string> { ["vp_token"] = new string('a', 300_000), ["state"] = "x" })), 413, "invalid_request" },
        { "result of a request never made", e => RedeemAsync(e.Http, "unknown", "code"), 400, "invalid_grant" },
        { "result taken by another client", async e => await RedeemAsync(e.Http, Id((await e.AnsweredAsync()).Created), "code", TestConfiguration.ServiceClient), 400, "invalid_grant" },
        { "result with the wrong response_code", async e => await RedeemAsync(e.Http, Id((await e.AnsweredAsync()).Created), "wrong-code"), 400, "invalid_grant" },
        { "result without the response_code of a same-device answer", async e => await RedeemAsync(e.Http, Id((await e.AnsweredAsync()).Created), null), 400, "invalid_grant" },
        { "result of an expired answer", async e => { var (created, _, answer) = await e.AnsweredAsync(); await e.Expire(created); return await RedeemAsync(e.Http, Id(created), ResponseCode(answer)); }, 400, "invalid_grant" },
        { "result taken twice", async e => { var (created, _, answer) = await e.AnsweredAsync(); Assert.Equal(200, (await RedeemAsync(e.Http, Id(created), ResponseCode(answer))).Status); return await RedeemAsync(e.Http, Id(created), ResponseCode(answer)); }, 400, "invalid_grant" },
        { "result after the wallet declined", async e => { var created = await CreateAsync(e.Http); var ro = await RequestObjectAsync(e.Http, created); await e.Send("presentations/response", new FormUrlEncodedContent(new Dictionary<string, string> { ["error"] = "access_denied", ["state"] = ro["state"]!.GetValue<string>() })); return await RedeemAsync(e.Http, Id(created), null); }, 400, "access_denied" },
        { "result without client authentication", e => e.Send("presentations/result", new FormUrlEncodedContent(new Dictionary<string, string> { ["request_id"] = "x" })), 401, "invalid_client" },
    };

    [Theory]
    [MemberData(nameof(EndpointRows))]
    public async Task A_hostile_request_at_the_verifier_endpoints_gets_its_protocol_error_and_no_result(string attack, Func<Endpoints, Task<(int Status, JsonObject Body)>> make, int status, string error)
    {
        await using var server = await TesseraTestServer.StartAsync(Configure);
        using var http = server.CreateClient();
        using var wallet = new TestWallet(http, CredentialIssuingTests.Issuer);
        var user = await CredentialIssuingTests.AddUserAsync(server);
        var credential = await wallet.CredentialAsync(await CredentialIssuingTests.PreAuthorizedTokenAsync(server, user), "age");

        var (actual, body) = await make(new Endpoints(server, http, wallet, credential));

        Assert.True(actual == status, $"{attack}: {actual} {body.ToJsonString()}");
        Assert.Equal(error, body["error"]?.GetValue<string>());
        Assert.False(body.ContainsKey("token"));
    }
}
