using System.Net;

namespace Tessera.Risk;

/// <summary>Where a place is, as far as a GeoIP database or an edge's headers can tell.</summary>
public sealed record GeoLocation(string? Country, string? City, double? Latitude, double? Longitude)
{
    public bool HasCoordinates => Latitude is not null && Longitude is not null;
}

/// <summary>Where a request comes from: its client's address (through trusted proxies only) and, if known, its location.</summary>
public sealed record RequestOrigin(IPAddress? Address, GeoLocation? Location)
{
    public string? Country => Location?.Country;
}
