using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using Tessera.Hosting;

namespace Tessera.Tests.Hosting;

/// <summary><see cref="UrlEncodedForm"/> against ASP.NET Core's own <see cref="FormReader"/>, body for body.</summary>
public sealed class UrlEncodedFormTests
{
    private const int Values = 8;
    private const int KeyLength = 12;
    private const int ValueLength = 40;

    /// <summary>What the reader makes of a body (its fields, in order, or the exception it throws), and the same of the parser.</summary>
    private static (string Reader, string Parser) Both(byte[] body)
    {
        return (Outcome(() =>
        {
            using var reader = new FormReader(new MemoryStream(body)) { ValueCountLimit = Values, KeyLengthLimit = KeyLength, ValueLengthLimit = ValueLength };
            return reader.ReadFormAsync().GetAwaiter().GetResult();
        }), Outcome(() => UrlEncodedForm.Parse(body, Values, KeyLength, ValueLength)));

        static string Outcome(Func<Dictionary<string, StringValues>> parse)
        {
            try
            {
                var fields = parse();
                Assert.Same(StringComparer.OrdinalIgnoreCase, fields.Comparer);
                return string.Join("\n", fields.Select(f => $"[{f.Key}] = [{string.Join("][", f.Value.ToArray())}]"));
            }
            catch (InvalidDataException)
            {
                return "InvalidDataException";
            }
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("a=")]
    [InlineData("=")]
    [InlineData("&")]
    [InlineData("=&=")]
    [InlineData("a=1&")]
    [InlineData("a=1&&b=2")]
    [InlineData("a&b=1")]
    [InlineData("a=b=c")]
    [InlineData("a=1&A=2&a=3&a=4")]
    [InlineData("grant_type=client_credentials&scope=write%3Aorders+read")]
    [InlineData("k%3D=%26v&%zz=%E2%82%AC%C3")]
    [InlineData("123456789012=x")]
    [InlineData("1234567890123=x")]
    [InlineData("a=1234567890123456789012345678901234567890")]
    [InlineData("a=12345678901234567890123456789012345678901")]
    [InlineData("a&b&c&d&e&f&g&h")]
    [InlineData("a&b&c&d&e&f&g&h&i")]
    public void A_body_is_read_as_the_reader_reads_it(string body)
    {
        var (reader, parser) = Both(Encoding.UTF8.GetBytes(body));
        Assert.Equal(reader, parser);
    }

    [Theory]
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF, (byte)'a', (byte)'=', (byte)'1' })]
    [InlineData(new byte[] { 0xFF, 0xFE, (byte)'a', 0, (byte)'=', 0, (byte)'1', 0 })]
    [InlineData(new byte[] { 0xFE, 0xFF, 0, (byte)'a', 0, (byte)'=', 0, (byte)'1' })]
    [InlineData(new byte[] { 0, 0, 0xFE, 0xFF, 0, 0, 0, (byte)'a' })]
    [InlineData(new byte[] { (byte)'a', (byte)'=', 0xC3, (byte)'&', (byte)'b', (byte)'=', 0xE2, 0x82, (byte)'=', 0xF0, 0x9F, 0x98 })]
    [InlineData(new byte[] { (byte)'a', (byte)'=', 0xED, 0xA0, 0x80, 0xC0, 0xAF, 0xFF })]
    public void Byte_order_marks_and_bytes_that_are_not_UTF8_are_read_as_the_reader_reads_them(byte[] body)
    {
        var (reader, parser) = Both(body);
        Assert.Equal(reader, parser);
    }

    [Fact]
    public void Random_bodies_are_read_as_the_reader_reads_them()
    {
        // Bytes weighted towards the form's own syntax, escapes and UTF-8 lead and continuation bytes.
        byte[] alphabet = [.. "=&+%aA0"u8, (byte)'%', (byte)'2', (byte)'C', (byte)'3', 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x80, 0xFF, 0xEF, 0xBB, 0xBF, 0x00, 0xFE];
        var random = new Random(20261207);
        var differing = new List<string>();
        var refused = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var body = new byte[random.Next(0, 70)];
            for (var j = 0; j < body.Length; j++)
            {
                body[j] = alphabet[random.Next(alphabet.Length)];
            }

            var (reader, parser) = Both(body);
            refused += reader == "InvalidDataException" ? 1 : 0;
            if (reader != parser)
            {
                differing.Add($"{Convert.ToHexString(body)}: reader {reader}, parser {parser}");
            }
        }

        Assert.Empty(differing);
        Assert.InRange(refused, 100, 19_000); // the limits were reached often, but not always
    }
}
