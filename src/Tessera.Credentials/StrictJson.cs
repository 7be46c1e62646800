using System.Text.Json;

namespace Tessera.Credentials;

/// <summary>
/// How every JSON text received is parsed: duplicate member names are refused, since two parsers could otherwise
/// disagree about which value a claim has (RFC 8259 §4, RFC 7519 §4).
/// </summary>
internal static class StrictJson
{
    public static readonly JsonDocumentOptions Options = new() { AllowDuplicateProperties = false, MaxDepth = 64 };
}
