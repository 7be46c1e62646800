using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Tessera.Saml;
using Tessera.Storage;

namespace Tessera.Federation;

/// <summary>
/// SAML assertion IDs already accepted, in the database: the primary key makes "first one wins" hold across
/// restarts and across nodes sharing PostgreSQL. Rows are swept once the assertion has expired.
/// </summary>
public sealed class DatabaseSamlReplayCache(TesseraDbContext db) : ISamlReplayCache
{
    public async ValueTask<bool> TryRecordAsync(string issuer, string assertionId, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        var record = new UsedSamlAssertionRecord
        {
            Key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(issuer + "\n" + assertionId))),
            ExpiresAt = expiresAt.UtcDateTime,
        };
        db.UsedSamlAssertions.Add(record);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException exception) when (!StorageOutage.IsUnavailable(exception))
        {
            return false; // the key exists: this assertion was used (a database outage is not a replay; it answers 503)
        }
        finally
        {
            db.Entry(record).State = EntityState.Detached;
        }
    }
}
