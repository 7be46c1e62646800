using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using Tessera.Credentials.Status;
using Tessera.Hosting;
using Tessera.Keys;
using Tessera.Storage;

namespace Tessera.Credentials;

/// <summary>
/// Tessera's Token Status Lists (draft-ietf-oauth-status-list): every credential takes an entry drawn at random (§13.4:
/// neighbouring entries must not tell who received credentials together), and a list is published as a signed
/// <c>statuslist+jwt</c> made from the stored credentials at the moment it is fetched, so a revocation shows at once.
/// </summary>
public sealed class CredentialStatusLists(TesseraDbContext db, KeyRing keys, TesseraIssuer issuer, TimeProvider time)
{
    /// <summary>Entries per list (1 bit each: 16 KiB uncompressed); a list is filled to half before the next is opened, so a random draw rarely collides.</summary>
    public const int Capacity = 131072;

    /// <summary>How long a verifier may cache a list (<c>ttl</c>): the longest a revocation can go unseen by one that caches.</summary>
    public static readonly TimeSpan TimeToLive = TimeSpan.FromMinutes(1);

    public string Uri(int list) => issuer.Url($"{CredentialEndpoints.StatusPath}/{list}");

    /// <summary>The list new credentials are placed in: the newest one, or the next once it is half full.</summary>
    public async Task<int> CurrentListAsync(CancellationToken cancellationToken)
    {
        var newest = await db.IssuedCredentials.MaxAsync(c => (int?)c.StatusList, cancellationToken) ?? 1;
        var used = await db.IssuedCredentials.CountAsync(c => c.StatusList == newest, cancellationToken);
        return used >= Capacity / 2 ? newest + 1 : newest;
    }

    public static int DrawIndex() => RandomNumberGenerator.GetInt32(Capacity);

    /// <summary>The signed list as it stands now, or null when no credential was ever placed in it.</summary>
    public async Task<string?> PublishAsync(int list, CancellationToken cancellationToken)
    {
        var revoked = await db.IssuedCredentials.AsNoTracking().Where(c => c.StatusList == list && c.RevokedAt != null).Select(c => c.StatusIndex).ToListAsync(cancellationToken);
        if (revoked.Count == 0 && !await db.IssuedCredentials.AnyAsync(c => c.StatusList == list, cancellationToken))
        {
            return null;
        }

        var statuses = new StatusList(1, Capacity);
        foreach (var index in revoked)
        {
            statuses[index] = (byte)TokenStatus.Invalid;
        }

        return new StatusListTokens(time).Create(
            new StatusListTokenRequest(Uri(list), statuses) { Issuer = issuer.Name, Lifetime = TimeSpan.FromDays(1), TimeToLive = TimeToLive },
            keys.SigningCredentials(SecurityAlgorithms.EcdsaSha256));
    }

    /// <summary>
    /// Marks every live credential of a user invalid, in the caller's transaction: the next fetch of a list shows it.
    /// The revocation service calls this when the user is cut off.
    /// </summary>
    public static Task<int> RevokeUserAsync(TesseraDbContext db, Guid userId, string reason, DateTime now, CancellationToken cancellationToken) =>
        db.IssuedCredentials.Where(c => c.UserId == userId && c.RevokedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(c => c.RevokedAt, now).SetProperty(c => c.RevokedReason, reason.Length > 100 ? reason[..100] : reason), cancellationToken);
}
