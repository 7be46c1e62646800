using System.Net;
using System.Text.RegularExpressions;

namespace Tessera.Tests.Infrastructure;

public static partial class Html
{
    /// <summary>The value of the first hidden input with this name.</summary>
    public static string HiddenValue(string html, string name)
    {
        foreach (Match input in InputPattern().Matches(html))
        {
            var tag = input.Value;
            if (tag.Contains($"name=\"{name}\"", StringComparison.Ordinal))
            {
                var value = ValuePattern().Match(tag);
                return WebUtility.HtmlDecode(value.Groups[1].Value);
            }
        }

        throw new InvalidOperationException($"No input named {name}.");
    }

    [GeneratedRegex("<input[^>]*>")]
    private static partial Regex InputPattern();

    [GeneratedRegex("value=\"([^\"]*)\"")]
    private static partial Regex ValuePattern();
}
