using Tessera.Audit;
using Tessera.Storage;

namespace Tessera.Admin;

/// <summary>
/// An Admin API change stored outside the managed configuration (SCIM tokens, setup links), made in one transaction
/// with its audit row (<see cref="AuditLog.Stage"/>): both are stored, or neither.
/// </summary>
public static class AuditedChange
{
    /// <summary>
    /// Runs <paramref name="change"/> in a transaction of the request's database context; when it succeeds (the result
    /// <paramref name="succeeded"/> says), stages what <paramref name="what"/> says was done and commits both.
    /// </summary>
    public static async Task<T> RunAsync<T>(HttpContext http, AdminCaller caller, string organizationId, string kind,
        Func<Task<T>> change, Func<T, bool> succeeded, Func<T, string> what)
    {
        var db = http.RequestServices.GetRequiredService<TesseraDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync(http.RequestAborted);
        var result = await change();
        if (!succeeded(result))
        {
            return result; // nothing changed: the transaction is discarded
        }

        http.RequestServices.GetRequiredService<AuditLog>().Stage(db, new AuditEvent(AuditEvents.AdminChanged, AuditEvent.Success)
        {
            ClientId = caller.ClientId,
            OrganizationId = organizationId,
            Reason = what(result),
            Detail = new Dictionary<string, string?> { ["by"] = caller.Actor, ["kind"] = kind },
        });
        await db.SaveChangesAsync(http.RequestAborted);
        await transaction.CommitAsync(http.RequestAborted);
        return result;
    }
}
