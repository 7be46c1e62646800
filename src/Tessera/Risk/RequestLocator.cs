using System.Globalization;
using Tessera.Hosting;

namespace Tessera.Risk;

/// <summary>
/// Where a request comes from: the client's address (the forwarded-headers middleware has already replaced the
/// socket's with the one a trusted proxy names), located by a trusted edge's headers when the request came through a
/// trusted proxy and <c>Anomaly.GeoHeaders</c> names them, and otherwise by the GeoIP database.
/// </summary>
public sealed class RequestLocator(IGeoLocator geo, TesseraConfiguration configuration)
{
    public RequestOrigin Locate(HttpContext http)
    {
        var address = http.Connection.RemoteIpAddress;
        var headers = configuration.Current.Anomaly.GeoHeaders;
        if (headers.Country is { Length: > 0 } countryHeader && http.Items.ContainsKey(TrustedProxies.ViaTrustedProxyItem)
            && http.Request.Headers[countryHeader] is [{ Length: 2 } country] && char.IsAsciiLetter(country[0]) && char.IsAsciiLetter(country[1])
            && country is not ("XX" or "T1"))
        {
            // Cloudflare says XX when it does not know and T1 for Tor: neither is a country.
            return new RequestOrigin(address, new GeoLocation(country.ToUpperInvariant(), Header(http, headers.City), Coordinate(http, headers.Latitude, 90), Coordinate(http, headers.Longitude, 180)));
        }

        return new RequestOrigin(address, address is null ? null : geo.Locate(address));
    }

    private static string? Header(HttpContext http, string? name) =>
        name is { Length: > 0 } && http.Request.Headers[name] is [{ Length: > 0 and <= 100 } value] ? value : null;

    private static double? Coordinate(HttpContext http, string? name, double limit) =>
        Header(http, name) is { } text && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && Math.Abs(value) <= limit ? value : null;
}
