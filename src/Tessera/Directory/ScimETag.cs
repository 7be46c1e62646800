namespace Tessera.Directory;

/// <summary>RFC 7644 §3.14 versions: <c>meta.version</c> and the ETag header are the same weak tag, checked by If-Match.</summary>
public static class ScimETag
{
    public static string Format(long version) => "W/\"" + version.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\"";

    /// <summary>Whether an If-Match / If-None-Match header names this version (or is <c>*</c>).</summary>
    public static bool Matches(string header, long version)
    {
        var current = Format(version);
        foreach (var tag in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            // Weak comparison (RFC 9110 §8.8.3.2): W/"3" and "3" name the same version.
            if (tag == "*" || tag == current || "W/" + tag == current)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>412 unless the If-Match header, when sent, names the current version.</summary>
    public static void Require(string? ifMatch, long version)
    {
        if (!string.IsNullOrWhiteSpace(ifMatch) && !Matches(ifMatch, version))
        {
            throw ScimException.PreconditionFailed($"The resource is at version {Format(version)}, not the one If-Match names.");
        }
    }
}
