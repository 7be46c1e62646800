using System.Buffers.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;
using Tessera.Credentials.Status;
using static Tessera.Credentials.Tests.Infrastructure.TestCredentials;

namespace Tessera.Credentials.Tests;

public sealed class StatusListTests
{
    private const string ListUri = "https://tessera.example/statuslists/1";

    // draft-ietf-oauth-status-list §4.1: sixteen 1-bit statuses packed into 0xB9 0xA3.
    private static readonly byte[] OneBitStatuses = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];

    // §4.1: twelve 2-bit statuses packed into 0xC9 0x44 0xF9.
    private static readonly byte[] TwoBitStatuses = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3];

    [Fact]
    public void The_drafts_one_bit_list_decodes_to_its_statuses()
    {
        var list = StatusList.Decompress(1, "eNrbuRgAAhcBXQ").Value!;
        Assert.Equal(new byte[] { 0xB9, 0xA3 }, list.ToBytes());
        Assert.Equal(OneBitStatuses, Enumerable.Range(0, 16).Select(i => list[i]));
    }

    [Fact]
    public void The_drafts_two_bit_list_decodes_to_its_statuses()
    {
        var list = StatusList.Decompress(2, "eNo76fITAAPfAgc").Value!;
        Assert.Equal(new byte[] { 0xC9, 0x44, 0xF9 }, list.ToBytes());
        Assert.Equal(TwoBitStatuses, Enumerable.Range(0, 12).Select(i => list[i]));
    }

    [Fact]
    public void Packing_the_drafts_statuses_gives_the_drafts_bytes_and_survives_compression()
    {
        var list = new StatusList(1, 16);
        for (var i = 0; i < OneBitStatuses.Length; i++)
        {
            list[i] = OneBitStatuses[i];
        }

        Assert.Equal(new byte[] { 0xB9, 0xA3 }, list.ToBytes());
        var compressed = list.Compress();
        Assert.Equal(0x78, Base64Url.DecodeFromChars(compressed)[0]); // a ZLIB header, not raw DEFLATE
        Assert.Equal(list.ToBytes(), StatusList.Decompress(1, compressed).Value!.ToBytes());
    }

    [Fact]
    public void Setting_one_status_leaves_its_neighbours_alone()
    {
        var list = new StatusList(2, 100);
        list[41] = (byte)TokenStatus.Suspended;
        list[42] = (byte)TokenStatus.Invalid;
        list[41] = (byte)TokenStatus.Invalid;
        Assert.Equal([0, 1, 1, 0], new[] { list[40], list[41], list[42], list[43] });
        Assert.Throws<ArgumentOutOfRangeException>(() => list[0] = 4);
    }

    [Fact]
    public async Task A_signed_status_list_token_round_trips_and_answers_lookups()
    {
        var list = new StatusList(1, 1024);
        list[7] = (byte)TokenStatus.Invalid;
        var tokens = new StatusListTokens(Clock());
        var token = tokens.Create(new StatusListTokenRequest(ListUri, list) { Issuer = Issuer, Lifetime = TimeSpan.FromDays(1), TimeToLive = TimeSpan.FromHours(12) }, IssuerSigning);

        var header = JsonNode.Parse(Base64Url.DecodeFromChars(token.Split('.')[0]))!;
        Assert.Equal("statuslist+jwt", header["typ"]!.GetValue<string>());
        var payload = DecodePayload(token);
        Assert.Equal(ListUri, payload["sub"]!.GetValue<string>());
        Assert.Equal(43200, payload["ttl"]!.GetValue<long>());
        Assert.Equal(1, payload["status_list"]!["bits"]!.GetValue<int>());

        var verified = await tokens.VerifyAsync(token, Trust.Keys, ListUri);
        Assert.True(verified.Succeeded, verified.Failure?.ToString());
        Assert.True(verified.Value!.Lookup(new StatusReference(6, ListUri)).Value!.IsValid);
        Assert.Equal(TokenStatus.Invalid, verified.Value.Lookup(new StatusReference(7, ListUri)).Value!.Status);
        Assert.Equal(TimeSpan.FromHours(12), verified.Value.TimeToLive);
    }

    [Fact]
    public void The_status_claim_reads_back_as_written()
    {
        var claims = new JsonObject { ["status"] = new StatusReference(42, ListUri).ToJson() };
        Assert.Equal(new StatusReference(42, ListUri), StatusReference.Read(claims)!.Value);
        Assert.Null(StatusReference.Read([]));
    }

    public static TheoryData<string, string, CredentialError> HostileStatusClaims => new()
    {
        { "index_negative", """{"status_list":{"idx":-1,"uri":"https://tessera.example/statuslists/1"}}""", CredentialError.StatusMalformed },
        { "index_a_string", """{"status_list":{"idx":"1","uri":"https://tessera.example/statuslists/1"}}""", CredentialError.StatusMalformed },
        { "uri_relative", """{"status_list":{"idx":1,"uri":"/statuslists/1"}}""", CredentialError.StatusMalformed },
        { "status_list_missing", """{"other":{}}""", CredentialError.StatusMalformed },
    };

    [Theory]
    [MemberData(nameof(HostileStatusClaims))]
    public void Hostile_status_claim_is_refused(string attack, string status, CredentialError expected)
    {
        var result = StatusReference.Read(new JsonObject { ["status"] = JsonNode.Parse(status) });
        Assert.True(result is { Succeeded: false }, attack);
        Assert.Equal(expected, result!.Error);
    }

    public sealed record HostileList(CredentialError Expected, Func<StatusListTokens, string> Token)
    {
        public string Subject { get; init; } = ListUri;

        public long Index { get; init; } = 3;
    }

    private static StatusListTokenRequest Request => new(ListUri, new StatusList(1, 64)) { Lifetime = TimeSpan.FromHours(1) };

    public static readonly Dictionary<string, HostileList> HostileLists = new()
    {
        ["index_out_of_range"] = new(CredentialError.StatusIndexOutOfRange, t => t.Create(Request, IssuerSigning)) { Index = 64 },
        ["index_far_out_of_range"] = new(CredentialError.StatusIndexOutOfRange, t => t.Create(Request, IssuerSigning)) { Index = long.MaxValue },
        ["fetched_from_another_uri"] = new(CredentialError.StatusListSubjectMismatch, t => t.Create(Request with { Subject = "https://tessera.example/statuslists/2" }, IssuerSigning)),
        ["signed_by_an_untrusted_key"] = new(CredentialError.SignatureInvalid, t => t.Create(Request, StrangerSigning)),
        ["typed_as_a_plain_jwt"] = new(CredentialError.TypeNotAllowed, _ => SignRaw(StatusPayload("eNrbuRgAAhcBXQ"), type: "JWT")),
        ["alg_none"] = new(CredentialError.AlgorithmNotAllowed, _ => Unsigned(StatusPayload("eNrbuRgAAhcBXQ"), "statuslist+jwt")),
        ["hmac"] = new(CredentialError.AlgorithmNotAllowed, _ => SignRaw(StatusPayload("eNrbuRgAAhcBXQ"), "statuslist+jwt",
            new SigningCredentials(new SymmetricSecurityKey(new byte[32]), SecurityAlgorithms.HmacSha256))),
        ["expired"] = new(CredentialError.Expired, t => t.Create(Request with { Lifetime = TimeSpan.FromMinutes(-5) }, IssuerSigning)),
        ["corrupted_zlib"] = new(CredentialError.StatusListCompressionInvalid, _ => SignRaw(StatusPayload("eNrbuRgAAhcBYQ"), "statuslist+jwt")),
        ["raw_deflate_without_zlib_header"] = new(CredentialError.StatusListCompressionInvalid, _ => SignRaw(StatusPayload(Base64Url.EncodeToString(Base64Url.DecodeFromChars("eNrbuRgAAhcBXQ")[2..])), "statuslist+jwt")),
        ["lst_not_base64url"] = new(CredentialError.StatusListCompressionInvalid, _ => SignRaw(StatusPayload("***"), "statuslist+jwt")),
        ["bits_three"] = new(CredentialError.StatusListBitsInvalid, _ => SignRaw(StatusPayload("eNrbuRgAAhcBXQ", bits: 3), "statuslist+jwt")),
        ["inflates_beyond_the_limit"] = new(CredentialError.TooLarge, t => t.Create(Request with { List = new StatusList(8, 20 * 1024 * 1024) }, IssuerSigning)),
        ["no_iat"] = new(CredentialError.StatusListTokenMalformed, _ =>
        {
            var payload = StatusPayload("eNrbuRgAAhcBXQ");
            payload.Remove("iat");
            return SignRaw(payload, "statuslist+jwt");
        }),
    };

    public static TheoryData<string> HostileListNames => new(HostileLists.Keys);

    [Theory]
    [MemberData(nameof(HostileListNames))]
    public async Task Hostile_status_list_token_is_refused_with_its_rule(string name)
    {
        var hostile = HostileLists[name];
        var tokens = new StatusListTokens(Clock());
        var verified = await tokens.VerifyAsync(hostile.Token(tokens), Trust.Keys, hostile.Subject);
        var error = verified.Succeeded ? verified.Value!.Lookup(new StatusReference(hostile.Index, ListUri)).Error : verified.Error;

        Assert.Equal(hostile.Expected, error);
    }

    private static JsonObject StatusPayload(string lst, int bits = 1) => new()
    {
        ["sub"] = ListUri,
        ["iat"] = Now.ToUnixTimeSeconds(),
        ["status_list"] = new JsonObject { ["bits"] = bits, ["lst"] = lst },
    };
}
