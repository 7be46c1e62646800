namespace Tessera.Federation;

/// <summary>After sign-in the browser goes back only to Tessera's own authorization endpoint, never elsewhere.</summary>
public static class ReturnUrls
{
    public static bool IsSafe(HttpRequest request, string? returnUrl)
    {
        if (string.IsNullOrEmpty(returnUrl) || returnUrl.Length > 8192)
        {
            return false;
        }

        var prefix = request.PathBase.Value + "/authorize?";
        return returnUrl.StartsWith(prefix, StringComparison.Ordinal)
            && !returnUrl.StartsWith("//", StringComparison.Ordinal)
            && !returnUrl.Contains('\\', StringComparison.Ordinal)
            && !returnUrl.Any(char.IsControl);
    }
}
