using Microsoft.Data.Sqlite;
using Npgsql;
using Tessera.Hosting;

namespace Tessera.Storage;

/// <summary>
/// While the database cannot answer (PostgreSQL restarting or unreachable, a connection ended under a request, SQLite
/// busy past its timeout or its file unreadable), a request that needed it is answered 503 with <c>Retry-After</c> in
/// its endpoint's own error shape, as soon as the driver gives up, instead of a 500 page: the client learns that
/// nothing is wrong with its request and when to send it again. A 503 acknowledges nothing; a request that commits in
/// more than one step (OpenIddict's refresh grant redeems the old token before it stores the new ones) may have made its
/// first step before the database went, which the client learns when it retries.
/// </summary>
public static partial class StorageOutage
{
    /// <summary>What a client is told to wait: about what a PostgreSQL restart or failover takes.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(2);

    // https://www.sqlite.org/rescode.html
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteCannotOpen = 14;

    /// <summary>
    /// True when the exception, or one it wraps (EF Core wraps driver errors), says the database is out for now rather
    /// than that the request broke a rule: Npgsql's transient errors (connection refused or lost, the server shutting
    /// down or starting, too many connections, a serialization failure), timeouts, and SQLite busy, locked or unopenable.
    /// </summary>
    public static bool IsUnavailable(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case NpgsqlException npgsql when npgsql.IsTransient:
                case SqliteException { SqliteErrorCode: SqliteBusy or SqliteLocked or SqliteCannotOpen }:
                case TimeoutException:
                    return true;
            }
        }

        return false;
    }

    /// <summary>Answers 503 for a request whose database work failed because the database is out (see <see cref="IsUnavailable"/>).</summary>
    public static IApplicationBuilder UseStorageOutageAnswers(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StorageOutage));
        return app.Use(async (http, next) =>
        {
            try
            {
                await next(http);
            }
            catch (Exception exception) when (IsUnavailable(exception) && !http.Response.HasStarted)
            {
                LogUnavailable(logger, http.Request.Path, exception.GetBaseException().Message);
                http.Response.Clear();
                await RetryLaterResponse.WriteAsync(http, StatusCodes.Status503ServiceUnavailable, RetryAfter, "storage_unavailable", "Temporarily unavailable",
                    "The service cannot reach its database at the moment; try again shortly.");
            }
        });
    }

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "The database is unavailable; {Path} was answered 503 ({Reason})")]
    private static partial void LogUnavailable(ILogger logger, PathString path, string reason);
}
