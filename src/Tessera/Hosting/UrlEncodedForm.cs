using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;

namespace Tessera.Hosting;

/// <summary>
/// An <c>application/x-www-form-urlencoded</c> body already read into memory, parsed exactly as ASP.NET Core's
/// <see cref="FormReader"/> parses it, without the stream, the stream reader and the buffers it needs for a body it has
/// yet to read. The same fields, values, order, limits and exceptions: a key runs to the next <c>=</c> (an <c>&amp;</c>
/// before it belongs to the key), a value to the next <c>&amp;</c> or the end (a key the end cuts off is dropped), <c>+</c> is a space
/// and percent-escapes are undone by <see cref="Uri.UnescapeDataString(string)"/>; bytes that are not UTF-8 become
/// U+FFFD. A body that begins with a byte-order mark, which the reader would honour, is handed to the reader itself.
/// </summary>
public static class UrlEncodedForm
{
    /// <exception cref="InvalidDataException">More than <paramref name="valueCountLimit"/> values, or a key or value longer than its limit, as the reader throws.</exception>
    public static Dictionary<string, StringValues> Parse(byte[] body, int valueCountLimit, int keyLengthLimit, int valueLengthLimit)
    {
        if (body.Length > 0 && body[0] is 0x00 or 0xEF or 0xFE or 0xFF)
        {
            using var reader = new FormReader(new MemoryStream(body, writable: false))
            {
                ValueCountLimit = valueCountLimit,
                KeyLengthLimit = keyLengthLimit,
                ValueLengthLimit = valueLengthLimit,
            };
            return reader.ReadForm();
        }

        // Each word is decoded on its own: '=' and '&' are ASCII, which no UTF-8 sequence contains and before which the
        // decoder ends any sequence it had begun, so the words are those of the body decoded whole.
        var fields = new KeyValueAccumulator();
        var position = 0;
        while (position < body.Length)
        {
            var key = Word(body, ref position, (byte)'=', keyLengthLimit, out var separated);
            if (!separated)
            {
                break; // a body that ends inside a key: the reader drops that key
            }

            fields.Append(key, Word(body, ref position, (byte)'&', valueLengthLimit, out _));
            if (fields.ValueCount > valueCountLimit)
            {
                throw new InvalidDataException($"Form value count limit {valueCountLimit} exceeded.");
            }
        }

        return fields.GetResults();
    }

    /// <summary>
    /// The unescaped text from <paramref name="position"/> to the next <paramref name="separator"/> (then
    /// <paramref name="separated"/>) or the end, leaving <paramref name="position"/> after the separator.
    /// </summary>
    private static string Word(byte[] body, ref int position, byte separator, int limit, out bool separated)
    {
        var rest = body.AsSpan(position);
        var end = rest.IndexOf(separator);
        separated = end >= 0;
        var word = Encoding.UTF8.GetString(separated ? rest[..end] : rest);
        if (word.Length > limit)
        {
            throw new InvalidDataException($"Form key or value length limit {limit} exceeded.");
        }

        position += separated ? end + 1 : rest.Length;
        return Uri.UnescapeDataString(word.Replace('+', ' '));
    }
}
