using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using Tessera.Storage;

namespace Tessera.Credentials;

/// <summary>
/// <c>c_nonce</c> values (OpenID4VCI 1.0 §7): 256 random bits, stored by hash in the database so that any node accepts
/// one any other made, each good for one proof within <see cref="Lifetime"/>.
/// </summary>
public sealed class CredentialNonces(TesseraDbContext db, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    public async Task<string> CreateAsync(CancellationToken cancellationToken)
    {
        var nonce = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        db.CredentialNonces.Add(new CredentialNonceRecord { NonceHash = Hash(nonce), ExpiresAt = time.GetUtcNow().UtcDateTime + Lifetime });
        await db.SaveChangesAsync(cancellationToken);
        return nonce;
    }

    /// <summary>Spends a nonce: true only for one this issuer made, unexpired and not spent before (whoever races, one wins).</summary>
    public async Task<bool> ConsumeAsync(string nonce, CancellationToken cancellationToken)
    {
        if (nonce.Length is 0 or > 100)
        {
            return false;
        }

        var hash = Hash(nonce);
        var now = time.GetUtcNow().UtcDateTime;
        return await db.CredentialNonces.Where(n => n.NonceHash == hash && n.ExpiresAt > now).ExecuteDeleteAsync(cancellationToken) == 1;
    }

    public static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
