using System.Globalization;
using System.Net;
using MaxMind.Db;
using MaxMind.GeoIP2;
using Tessera.Hosting;

namespace Tessera.Risk;

/// <summary>Where an address is, if anything knows.</summary>
public interface IGeoLocator
{
    GeoLocation? Locate(IPAddress address);
}

/// <summary>
/// GeoIP databases in MaxMind's format (<c>Anomaly.GeoDatabase</c>, then <c>Anomaly.GeoDatabases</c>), memory-mapped
/// and asked in order. MaxMind's own GeoIP2 and GeoLite2 databases (City or Country) are read with MaxMind.GeoIP2;
/// other MaxMind-format databases with flat records (DB-IP's City Lite as published in MMDB form: country_code, city,
/// latitude, longitude) through the same library's reader. A file that changes is read again (looked at every
/// <see cref="CheckInterval"/>); one that cannot be read is logged and left out.
/// </summary>
public sealed partial class GeoDatabase(TesseraConfiguration configuration, TimeProvider time, ILogger<GeoDatabase> logger) : IGeoLocator, IDisposable
{
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(30);

    private readonly Lock _gate = new();
    private Loaded _loaded = new([], [], DateTimeOffset.MinValue);

    private sealed record Source(string Path, DateTime Modified, Func<IPAddress, GeoLocation?> Locate, IDisposable Reader);

    private sealed record Loaded(IReadOnlyList<string> Paths, IReadOnlyList<Source> Sources, DateTimeOffset CheckedAt);

    public GeoLocation? Locate(IPAddress address)
    {
        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        foreach (var source in Current().Sources)
        {
            try
            {
                if (source.Locate(plain) is { } location)
                {
                    return location;
                }
            }
            catch (Exception exception) when (exception is InvalidDatabaseException or ArgumentException)
            {
                LogLookupFailed(exception, source.Path);
            }
        }

        return null;
    }

    private Loaded Current()
    {
        var loaded = _loaded;
        var now = time.GetUtcNow();
        var paths = Paths(configuration.Current.Anomaly);
        if (loaded.Paths.SequenceEqual(paths) && now - loaded.CheckedAt < CheckInterval)
        {
            return loaded;
        }

        lock (_gate)
        {
            loaded = _loaded;
            if (loaded.Paths.SequenceEqual(paths) && now - loaded.CheckedAt < CheckInterval)
            {
                return loaded;
            }

            var sources = new List<Source>();
            foreach (var path in paths)
            {
                var modified = File.Exists(path) ? File.GetLastWriteTimeUtc(path) : DateTime.MinValue;
                var kept = loaded.Sources.FirstOrDefault(s => s.Path == path && s.Modified == modified);
                if (kept is not null)
                {
                    sources.Add(kept);
                }
                else if (Open(path, modified) is { } opened)
                {
                    sources.Add(opened);
                    LogLoaded(path);
                }
            }

            foreach (var stale in loaded.Sources.Except(sources))
            {
                stale.Reader.Dispose();
            }

            _loaded = new Loaded(paths, sources, now);
            return _loaded;
        }
    }

    private static IReadOnlyList<string> Paths(AnomalyOptions anomaly) =>
        (anomaly.GeoDatabase is { Length: > 0 } first ? [first, .. anomaly.GeoDatabases] : anomaly.GeoDatabases).ToList();

    private Source? Open(string path, DateTime modified)
    {
        try
        {
            var kind = new Reader(path, FileAccessMode.MemoryMapped);
            var type = kind.Metadata.DatabaseType;
            if (type.Contains("GeoIP2", StringComparison.OrdinalIgnoreCase) || type.Contains("GeoLite2", StringComparison.OrdinalIgnoreCase))
            {
                kind.Dispose();
                var geoip = new DatabaseReader(path, FileAccessMode.MemoryMapped);
                return type.Contains("City", StringComparison.OrdinalIgnoreCase)
                    ? new Source(path, modified, address => geoip.TryCity(address, out var city) && city?.Country.IsoCode is { } code
                        ? new GeoLocation(code, city.City.Name, city.Location.Latitude, city.Location.Longitude)
                        : null, geoip)
                    : new Source(path, modified, address => geoip.TryCountry(address, out var country) && country?.Country.IsoCode is { } code
                        ? new GeoLocation(code, null, null, null)
                        : null, geoip);
            }

            return new Source(path, modified, address => Flat(kind.Find<Dictionary<string, object>>(address)), kind);
        }
        catch (Exception exception) when (exception is IOException or InvalidDatabaseException or UnauthorizedAccessException or ArgumentException)
        {
            LogUnreadable(exception, path);
            return null;
        }
    }

    /// <summary>A flat record: <c>country_code</c>, <c>city</c>, <c>latitude</c>, <c>longitude</c> (DB-IP City Lite in MMDB form).</summary>
    private static GeoLocation? Flat(Dictionary<string, object>? record)
    {
        if (record is null || !record.TryGetValue("country_code", out var country) || country is not string code || code.Length != 2)
        {
            return null;
        }

        return new GeoLocation(code.ToUpperInvariant(), record.GetValueOrDefault("city") as string, Number(record.GetValueOrDefault("latitude")), Number(record.GetValueOrDefault("longitude")));
    }

    private static double? Number(object? value) => value switch
    {
        double d => d,
        float f => f,
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    public void Dispose()
    {
        foreach (var source in _loaded.Sources)
        {
            source.Reader.Dispose();
        }
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "GeoIP database {Path} loaded")]
    private partial void LogLoaded(string path);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Error, Message = "GeoIP database {Path} cannot be read and is left out")]
    private partial void LogUnreadable(Exception exception, string path);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "GeoIP lookup in {Path} failed")]
    private partial void LogLookupFailed(Exception exception, string path);
}
