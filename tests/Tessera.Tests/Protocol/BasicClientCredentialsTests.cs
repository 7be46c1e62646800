using System.Text;
using Microsoft.AspNetCore.Http;
using Tessera.Protocol;

namespace Tessera.Tests.Protocol;

/// <summary>RFC 6749 §2.3.1's HTTP Basic client credentials, as the lean token path and the verifier's endpoints read them.</summary>
public sealed class BasicClientCredentialsTests
{
    public static TheoryData<string, string?, bool, string?, string?, bool> Headers => new()
    {
        // name, Authorization header (null: none), present, client_id, secret, plain
        { "no header", null, false, null, null, false },
        { "a Bearer header", "Bearer abc", false, null, null, false },
        { "a plain pair", Basic("orders-api:s3cret"), true, "orders-api", "s3cret", true },
        { "the scheme in lower case", "basic " + Base64("orders-api:s3cret"), true, "orders-api", "s3cret", true },
        { "a colon in the secret", Basic("orders-api:a:b"), true, "orders-api", "a:b", true },
        { "percent-encoded parts", Basic("orders%2Dapi:p%40ss%3Aword"), true, "orders-api", "p@ss:word", false },
        { "a plus for a space", Basic("orders-api:two+words"), true, "orders-api", "two words", false },
        { "a space in the secret", Basic("orders-api:two words"), true, "orders-api", "two words", false },
        { "no colon", Basic("no-colon-here"), true, null, null, false },
        { "an empty client_id", Basic(":s3cret"), true, null, null, false },
        { "an empty secret", Basic("orders-api:"), true, null, null, false },
        { "not base64", "Basic !!!not-base64!!!", true, null, null, false },
        { "bytes that are not UTF-8", "Basic " + Convert.ToBase64String([0xFF, 0x25, 0x7A, 0x3A, 0xC3, 0x28]), true, null, null, false },
        { "only the scheme", "Basic ", true, null, null, false },
        { "a header over 2 KB", Basic("orders-api:" + new string('x', 2000)), true, null, null, false },
    };

    [Theory]
    [MemberData(nameof(Headers))]
    public void Reads_a_pair_only_when_the_header_is_one(string name, string? header, bool present, string? clientId, string? secret, bool plain)
    {
        var request = new DefaultHttpContext().Request;
        if (header is not null)
        {
            request.Headers.Authorization = header;
        }

        var credentials = BasicClientCredentials.Read(request);

        Assert.True((present, clientId, secret, plain) == (credentials.Present, credentials.ClientId, credentials.Secret, credentials.Plain), $"{name}: {credentials}");
        Assert.Equal(clientId is not null, credentials.WellFormed);
    }

    [Fact]
    public void Two_Authorization_headers_are_not_read()
    {
        var request = new DefaultHttpContext().Request;
        request.Headers.Authorization = new([Basic("a:b"), Basic("c:d")]);

        Assert.False(BasicClientCredentials.Read(request).Present);
    }

    private static string Basic(string pair) => "Basic " + Base64(pair);

    private static string Base64(string pair) => Convert.ToBase64String(Encoding.UTF8.GetBytes(pair));
}
