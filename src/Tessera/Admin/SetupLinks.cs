using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Admin;

/// <summary>What opening a setup link finds.</summary>
public enum SetupLinkState
{
    Valid,
    Used,
    Expired,
    Revoked,
    Unknown,
}

/// <summary>
/// Setup links: a URL that opens the setup portal for one organization, once, until it expires or is revoked. Only a
/// hash of the link's token is stored. Opening takes two steps (the page, then its button), so a mail scanner that
/// fetches every link it sees does not use it up.
/// </summary>
public sealed class SetupLinks(TesseraDbContext db, TesseraConfiguration configuration, TesseraIssuer issuer, TimeProvider time)
{
    public const string TokenPrefix = "tsetup_";

    public async Task<(SetupLinkRecord Link, string Url)> CreateAsync(string organizationId, TimeSpan? lifetime, string createdBy, CancellationToken cancellationToken)
    {
        var token = TokenPrefix + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var now = time.GetUtcNow().UtcDateTime;
        var link = new SetupLinkRecord
        {
            Id = "link-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)),
            OrganizationId = organizationId,
            TokenHash = Sessions.SessionStore.Hash(token),
            CreatedAt = now,
            ExpiresAt = now + (lifetime ?? configuration.Current.Portal.SetupLinkLifetime),
            CreatedBy = createdBy,
        };
        db.SetupLinks.Add(link);
        await db.SaveChangesAsync(cancellationToken);
        return (link, Url(token));
    }

    public string Url(string token) => issuer.Url($"/portal/setup/{token}");

    public Task<List<SetupLinkRecord>> ListAsync(string organizationId, CancellationToken cancellationToken) =>
        db.SetupLinks.AsNoTracking().Where(l => l.OrganizationId == organizationId).OrderBy(l => l.CreatedAt).ToListAsync(cancellationToken);

    /// <summary>Revokes a link and ends the portal session it opened, if any. False when there is no such live link.</summary>
    public async Task<bool> RevokeAsync(string organizationId, string id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var revoked = await db.SetupLinks.Where(l => l.Id == id && l.OrganizationId == organizationId && l.RevokedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(l => l.RevokedAt, now), cancellationToken) == 1;
        if (revoked)
        {
            await db.PortalSessions.Where(s => s.SetupLinkId == id && s.EndedAt == null)
                .ExecuteUpdateAsync(set => set.SetProperty(s => s.EndedAt, now), cancellationToken);
        }

        return revoked;
    }

    /// <summary>What the link is, without using it.</summary>
    public async Task<(SetupLinkState State, SetupLinkRecord? Link)> InspectAsync(string? token, CancellationToken cancellationToken)
    {
        if (token is null || token.Length is < 10 or > 200)
        {
            return (SetupLinkState.Unknown, null);
        }

        var hash = Sessions.SessionStore.Hash(token);
        var link = await db.SetupLinks.AsNoTracking().FirstOrDefaultAsync(l => l.TokenHash == hash, cancellationToken);
        var model = configuration.Current;
        return link switch
        {
            null => (SetupLinkState.Unknown, null),
            { RevokedAt: not null } => (SetupLinkState.Revoked, link),
            { UsedAt: not null } => (SetupLinkState.Used, link),
            _ when link.ExpiresAt <= time.GetUtcNow().UtcDateTime => (SetupLinkState.Expired, link),
            _ when !ConfigurationResources.OrganizationExists(model.File, model.Managed, link.OrganizationId) => (SetupLinkState.Revoked, link),
            _ => (SetupLinkState.Valid, link),
        };
    }

    /// <summary>Uses the link (once: whoever marks it used first wins) and opens a portal session for its organization.</summary>
    public async Task<(SetupLinkState State, PortalSessionRecord? Session, string? Secret)> RedeemAsync(string? token, CancellationToken cancellationToken)
    {
        var (state, link) = await InspectAsync(token, cancellationToken);
        if (state != SetupLinkState.Valid)
        {
            return (state, null, null);
        }

        var now = time.GetUtcNow().UtcDateTime;
        var won = await db.SetupLinks.Where(l => l.Id == link!.Id && l.UsedAt == null && l.RevokedAt == null && l.ExpiresAt > now)
            .ExecuteUpdateAsync(set => set.SetProperty(l => l.UsedAt, now), cancellationToken) == 1;
        if (!won)
        {
            return (SetupLinkState.Used, null, null);
        }

        var secret = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var session = new PortalSessionRecord
        {
            Id = "ps-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            SecretHash = Sessions.SessionStore.Hash(secret),
            OrganizationId = link!.OrganizationId,
            SetupLinkId = link.Id,
            CreatedAt = now,
            LastSeenAt = now,
            ExpiresAt = now + configuration.Current.Portal.SessionLifetime,
        };
        db.PortalSessions.Add(session);
        await db.SaveChangesAsync(cancellationToken);
        return (SetupLinkState.Valid, session, secret);
    }
}
