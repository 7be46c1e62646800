using System.Globalization;

namespace Tessera.Saml;

/// <summary>
/// A value read from a refused message, made fit to show an administrator: trimmed, printable characters only,
/// bounded. It is reported, never used.
/// </summary>
internal static class ReportedValue
{
    private const int MaxLength = 256;

    public static string? Of(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var printable = new string(value.Trim().Where(IsShown).Take(MaxLength + 1).ToArray());
        return printable.Length switch
        {
            0 => null,
            > MaxLength => printable[..MaxLength] + "...",
            _ => printable,
        };
    }

    /// <summary>Control and format characters are dropped: a bidi override or a zero-width space would make a value read as another.</summary>
    private static bool IsShown(char c) => char.GetUnicodeCategory(c) is not (UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned);

    /// <summary>Several values, each reported, in one string.</summary>
    public static string? Of(IEnumerable<string?> values)
    {
        var reported = values.Select(Of).OfType<string>().Distinct(StringComparer.Ordinal).Take(5).ToList();
        return reported.Count == 0 ? null : string.Join(", ", reported);
    }

    /// <summary>An instant as SAML writes it (Core §1.3.3), in UTC.</summary>
    public static string Time(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
