using System.Text;

namespace Tessera.Protocol;

/// <summary>
/// The client_id and secret of an HTTP Basic <c>Authorization</c> header as RFC 6749 §2.3.1 defines it: base64 of the
/// form-url-encoded client_id, a colon, and the form-url-encoded secret.
/// </summary>
/// <param name="Present">The request has one <c>Authorization</c> header and it is Basic.</param>
/// <param name="ClientId">Null unless the header is one well-formed pair.</param>
/// <param name="Secret">Null unless the header is one well-formed pair.</param>
/// <param name="Plain">Neither part needed form-url-decoding (no <c>%</c> or <c>+</c>) and neither holds a control character or a space.</param>
public readonly record struct BasicClientCredentials(bool Present, string? ClientId, string? Secret, bool Plain)
{
    /// <summary>Longer headers are refused unread; no client_id and secret Tessera accepts come near it.</summary>
    public const int MaxHeaderLength = 2048;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public bool WellFormed => ClientId is not null;

    public static BasicClientCredentials Read(HttpRequest request)
    {
        var header = request.Headers.Authorization;
        if (header.Count != 1 || header[0] is not { } value || !value.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return default;
        }

        var malformed = new BasicClientCredentials(Present: true, null, null, Plain: false);
        if (value.Length > MaxHeaderLength)
        {
            return malformed;
        }

        Span<byte> decoded = stackalloc byte[value.Length];
        if (!Convert.TryFromBase64String(value[6..].Trim(), decoded, out var length))
        {
            return malformed;
        }

        string pair;
        try
        {
            pair = StrictUtf8.GetString(decoded[..length]);
        }
        catch (DecoderFallbackException)
        {
            return malformed;
        }

        var colon = pair.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == pair.Length - 1)
        {
            return malformed;
        }

        if (pair.AsSpan().IndexOfAny('%', '+') < 0)
        {
            return new(true, pair[..colon], pair[(colon + 1)..], Plain: !pair.AsSpan().ContainsAnyInRange('\0', ' '));
        }

        return new(true, Decode(pair[..colon]), Decode(pair[(colon + 1)..]), Plain: false);
    }

    private static string Decode(string part) => Uri.UnescapeDataString(part.Replace('+', ' '));
}
