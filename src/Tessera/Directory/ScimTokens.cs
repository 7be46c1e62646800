using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Directory;

/// <summary>
/// The bearer tokens of the organizations' SCIM services: those declared in configuration (<c>Scim.Tokens</c>) and
/// those made with <c>tessera scim token create</c>, stored as hashes. A token opens exactly one organization's
/// directory. Revocation is read from the database on every request, so it holds on every node at once.
/// </summary>
public sealed class ScimTokens(TesseraDbContext db, TesseraConfiguration configuration, TimeProvider time)
{
    /// <summary>Every token this class makes starts with it, so a leaked one is recognisable in a secret scan.</summary>
    public const string Prefix = "tscim_";

    /// <summary>The organization whose directory this bearer token opens, or null.</summary>
    public async Task<string?> AuthenticateAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 512)
        {
            return null;
        }

        var hash = Hash(token);
        if (configuration.Current.ScimTokenOrganization(hash) is { } organization)
        {
            return organization;
        }

        return await db.ScimTokens.AsNoTracking()
            .Where(t => t.Hash == hash && t.RevokedAt == null)
            .Select(t => t.OrganizationId)
            .FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>Makes a token for an organization; the token itself is returned once and never stored.</summary>
    public async Task<(ScimTokenRecord Record, string Token)> CreateAsync(string organizationId, string? description, CancellationToken cancellationToken)
    {
        var token = Prefix + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var record = new ScimTokenRecord
        {
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)),
            OrganizationId = organizationId,
            Hash = Hash(token),
            Description = description,
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };
        db.ScimTokens.Add(record);
        await db.SaveChangesAsync(cancellationToken);
        return (record, token);
    }

    public Task<List<ScimTokenRecord>> ListAsync(string? organizationId, CancellationToken cancellationToken) =>
        db.ScimTokens.AsNoTracking()
            .Where(t => organizationId == null || t.OrganizationId == organizationId)
            .OrderBy(t => t.OrganizationId).ThenBy(t => t.CreatedAt)
            .ToListAsync(cancellationToken);

    /// <summary>Revokes a stored token by its id; false when there is no such token or it was already revoked.</summary>
    public async Task<bool> RevokeAsync(string id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return await db.ScimTokens.Where(t => t.Id == id && t.RevokedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.RevokedAt, now), cancellationToken) == 1;
    }

    public static string Hash(string token) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
