using System.Globalization;

namespace Tessera.Admin;

/// <summary>Query parameters of the Admin API's searches, each given at most once and checked.</summary>
public static class AdminQuery
{
    public static string? Single(IQueryCollection query, string name)
    {
        if (!query.TryGetValue(name, out var values))
        {
            return null;
        }

        return values.Count == 1 && values[0] is { Length: > 0 and <= 320 } value
            ? value
            : throw AdminProblem.BadRequest($"{name} must be given once, with 1 to 320 characters.");
    }

    public static int Limit(IQueryCollection query, int fallback, int max) =>
        Single(query, "limit") is not { } value ? fallback
        : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit is >= 1 && limit <= max ? limit
        : throw AdminProblem.BadRequest($"limit must be a whole number from 1 to {max}.");

    public static int Offset(IQueryCollection query) =>
        Single(query, "offset") is not { } value ? 0
        : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var offset) && offset <= 1_000_000 ? offset
        : throw AdminProblem.BadRequest("offset must be a whole number (a previous page's 'next').");

    public static DateTime? Time(IQueryCollection query, string name) =>
        Single(query, name) is not { } value ? null
        : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time.UtcDateTime
        : throw AdminProblem.BadRequest($"{name} must be a date and time (ISO 8601, for example 2026-12-01T00:00:00Z).");

    /// <summary>
    /// The organizations a search may cover: the one asked for (if the caller manages it), every one for a platform
    /// admin (null), or the caller's own.
    /// </summary>
    public static IReadOnlyList<string>? Organizations(AdminCaller caller, string? organization)
    {
        if (organization is not null)
        {
            return caller.CanManage(organization) ? [organization] : throw new ScopeRequired(AdminCaller.OrganizationScope(organization));
        }

        return caller.IsPlatformAdmin ? null : caller.Organizations.ToList();
    }
}
