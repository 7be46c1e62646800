using System.Globalization;

namespace Tessera.Federation;

/// <summary>How diagnoses write what an IdP sent and what a clock said: printable, bounded, the same for every protocol.</summary>
internal static class DiagnosisText
{
    private const int MaxLength = 256;

    /// <summary>Upstream text fit for an administrator's page: printable ASCII, bounded; null when nothing is left.</summary>
    public static string? Printable(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var cleaned = new string(value.Trim().Where(c => c >= 0x20 && c < 0x7F).Take(MaxLength + 1).ToArray());
        return cleaned.Length switch
        {
            0 => null,
            > MaxLength => cleaned[..MaxLength] + "...",
            _ => cleaned,
        };
    }

    /// <summary>Several upstream values in one string, each printable, at most <paramref name="max"/> of them.</summary>
    public static string? Printable(IEnumerable<string?> values, int max = 10)
    {
        var printable = values.Select(Printable).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        return printable.Count switch
        {
            0 => null,
            _ when printable.Count > max => string.Join(", ", printable.Take(max)) + $" (and {printable.Count - max} more)",
            _ => string.Join(", ", printable),
        };
    }

    /// <summary>An instant in UTC, as both protocols write them.</summary>
    public static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>"10 min 3 s ahead of" or "42 s behind": the IdP's clock against Tessera's.</summary>
    public static string Offset(TimeSpan offset)
    {
        // Issue times are written in whole seconds: a finer reading would only show that rounding.
        var size = TimeSpan.FromSeconds(Math.Round(offset.Duration().TotalSeconds));
        var parts = new List<string>();
        if (size.TotalHours >= 1)
        {
            parts.Add($"{(int)size.TotalHours} h");
        }

        if (size.Minutes > 0)
        {
            parts.Add($"{size.Minutes} min");
        }

        if (size.Seconds > 0 || parts.Count == 0)
        {
            parts.Add($"{size.Seconds} s");
        }

        return string.Join(' ', parts) + (offset < TimeSpan.Zero ? " behind" : " ahead of");
    }

    /// <summary>A configured duration as an administrator reads it: "60 s", "5 min".</summary>
    public static string Duration(TimeSpan value) =>
        value.TotalSeconds < 120 ? $"{(int)value.TotalSeconds} s" : $"{value.TotalMinutes:0.#} min";
}
