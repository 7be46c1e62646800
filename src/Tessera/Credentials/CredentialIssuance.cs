using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using Tessera.Audit;
using Tessera.Credentials.Status;
using Tessera.Credentials.Vc;
using Tessera.Hosting;
using Tessera.Keys;
using Tessera.Storage;

namespace Tessera.Credentials;

/// <summary>An issued credential, or the OpenID4VCI error (§8.3.1.2) that refused it.</summary>
public sealed record IssuanceResult(string? Credential, string? Error, string? Description);

/// <summary>
/// Makes one SD-JWT VC for a user: the claims from their attributes, the holder key into <c>cnf</c>, an entry in a status
/// list, signed by the key ring; recorded (without its claims) and audited.
/// </summary>
public sealed class CredentialIssuance(TesseraDbContext db, KeyRing keys, TesseraConfiguration configuration, CredentialStatusLists statusLists, AuditLog audit, TimeProvider time)
{
    public async Task<IssuanceResult> IssueAsync(CredentialOptions credential, UserRecord user, JsonWebKey holderKey, string? clientId, CancellationToken cancellationToken)
    {
        var model = configuration.Current;
        if (!credential.Organizations.Contains(user.OrganizationId, StringComparer.Ordinal))
        {
            return Refused(credential, user, clientId, "credential_request_denied", "this credential is not offered to the user's organization");
        }

        var provisioned = await db.DirectoryUsers.AsNoTracking().FirstOrDefaultAsync(d => d.UserId == user.Id, cancellationToken);
        var now = time.GetUtcNow();
        var content = CredentialClaims.For(credential, user, provisioned, model.FindOrganization(user.OrganizationId), DateOnly.FromDateTime(now.UtcDateTime));
        if (content.Claims.Count == 0)
        {
            return Refused(credential, user, clientId, "credential_request_denied", "the user has none of the attributes this credential is made of");
        }

        var record = new IssuedCredentialRecord
        {
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            UserId = user.Id,
            OrganizationId = user.OrganizationId,
            ConfigurationId = credential.Id,
            HolderKeyThumbprint = Base64UrlEncoder.Encode(holderKey.ComputeJwkThumbprint()),
            IssuedAt = now.UtcDateTime,
            ExpiresAt = (now + credential.Lifetime).UtcDateTime,
        };
        for (var attempt = 0; ; attempt++)
        {
            record.StatusList = await statusLists.CurrentListAsync(cancellationToken);
            record.StatusIndex = CredentialStatusLists.DrawIndex();
            db.IssuedCredentials.Add(record);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                break;
            }
            catch (DbUpdateException) when (attempt < 8)
            {
                db.Entry(record).State = EntityState.Detached; // the entry was taken: draw another
            }
        }

        var issued = new SdJwtVcIssuer(time).Issue(new SdJwtVcIssuance
        {
            Vct = credential.Vct,
            Issuer = model.Issuer.Name,
            Claims = content.Claims,
            Disclosable = content.Disclosable,
            Lifetime = credential.Lifetime,
            HolderKey = holderKey,
            Status = new StatusReference(record.StatusIndex, statusLists.Uri(record.StatusList)),
        }, keys.SigningCredentials(credential.SigningAlgorithm));
        if (!issued.Succeeded)
        {
            // Configuration validation keeps reserved names out; reaching this is a defect, not a request error.
            throw new InvalidOperationException($"Credential '{credential.Id}' could not be issued: {issued.Failure}");
        }

        audit.Record(new AuditEvent(AuditEvents.CredentialIssued, AuditEvent.Success)
        {
            OrganizationId = user.OrganizationId,
            UserId = user.Id.ToString(),
            ClientId = clientId,
            Detail = new Dictionary<string, string?>
            {
                ["credential"] = record.Id,
                ["configuration"] = credential.Id,
                ["status_list"] = record.StatusList.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["holder_key"] = record.HolderKeyThumbprint,
            },
        });
        return new IssuanceResult(issued.Value!.Serialized, null, null);
    }

    private IssuanceResult Refused(CredentialOptions credential, UserRecord user, string? clientId, string error, string description)
    {
        audit.Record(new AuditEvent(AuditEvents.CredentialRefused, AuditEvent.Failure)
        {
            OrganizationId = user.OrganizationId,
            UserId = user.Id.ToString(),
            ClientId = clientId,
            Reason = description,
            Detail = new Dictionary<string, string?> { ["configuration"] = credential.Id },
        });
        return new IssuanceResult(null, error, description);
    }
}
