using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Hosting;
using Tessera.Keys;
using Tessera.Storage;

namespace Tessera.Credentials;

/// <summary>A new offer: what to hand the wallet (the offer and its URI), and the transaction code to tell the user by another channel.</summary>
public sealed record CreatedOffer(JsonObject Offer, string OfferUri, string? TransactionCode, DateTime ExpiresAt);

/// <summary>
/// Credential offers with a pre-authorized code (OpenID4VCI 1.0 §4.1.1, §6.1): an operator makes one for a user, the
/// wallet redeems the code (with the transaction code, when there is one) for an access token at
/// <see cref="CredentialEndpoints.TokenPath"/>. Codes are single-use, short-lived and stored by hash; a transaction
/// code guessed wrong <see cref="MaxAttempts"/> times kills its offer.
/// </summary>
public sealed class CredentialOffers(TesseraDbContext db, KeyRing keys, TesseraIssuer issuer, TimeProvider time)
{
    public const string PreAuthorizedGrant = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
    public const int MaxAttempts = 5;
    public const int TransactionCodeLength = 6;
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan AccessTokenLifetime = TimeSpan.FromMinutes(5);
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public async Task<CreatedOffer> CreateAsync(CredentialOptions credential, UserRecord user, bool transactionCode, CancellationToken cancellationToken)
    {
        var code = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var pin = transactionCode ? RandomNumberGenerator.GetInt32(1_000_000).ToString("D6", CultureInfo.InvariantCulture) : null;
        var now = time.GetUtcNow().UtcDateTime;
        var record = new CredentialOfferRecord
        {
            CodeHash = CredentialNonces.Hash(code),
            ConfigurationId = credential.Id,
            UserId = user.Id,
            OrganizationId = user.OrganizationId,
            TransactionCodeHash = pin is null ? null : CredentialNonces.Hash(pin),
            CreatedAt = now,
            ExpiresAt = now + Lifetime,
        };
        db.CredentialOffers.Add(record);
        await db.SaveChangesAsync(cancellationToken);

        // OpenID4VCI 1.0 §4.1.1
        var grant = new JsonObject { ["pre-authorized_code"] = code, ["authorization_server"] = CredentialAccess.PreAuthorizedServer(issuer) };
        if (pin is not null)
        {
            grant["tx_code"] = new JsonObject { ["input_mode"] = "numeric", ["length"] = TransactionCodeLength, ["description"] = "The code your administrator gave you" };
        }

        var offer = new JsonObject
        {
            ["credential_issuer"] = issuer.Name,
            ["credential_configuration_ids"] = new JsonArray(credential.Id),
            ["grants"] = new JsonObject { [PreAuthorizedGrant] = grant },
        };
        var uri = "openid-credential-offer://?credential_offer=" + Uri.EscapeDataString(offer.ToJsonString());
        return new CreatedOffer(offer, uri, pin, record.ExpiresAt);
    }

    /// <summary>Redeems a pre-authorized code (OpenID4VCI 1.0 §6.1, §6.3): the offer it opens, or the OAuth error that refuses it.</summary>
    public async Task<(CredentialOfferRecord? Offer, string? Error, string? Description)> RedeemAsync(string? code, string? transactionCode, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(code) || code.Length > 200)
        {
            return (null, "invalid_request", "pre-authorized_code is required");
        }

        var hash = CredentialNonces.Hash(code);
        var now = time.GetUtcNow().UtcDateTime;
        var offer = await db.CredentialOffers.FirstOrDefaultAsync(o => o.CodeHash == hash, cancellationToken);
        if (offer is null || offer.UsedAt is not null || offer.ExpiresAt <= now || offer.FailedAttempts >= MaxAttempts)
        {
            return (null, "invalid_grant", "the pre-authorized code is unknown, used, or expired");
        }

        if (offer.TransactionCodeHash is not null)
        {
            if (string.IsNullOrEmpty(transactionCode))
            {
                return (null, "invalid_request", "this offer needs its tx_code");
            }

            var given = Encoding.ASCII.GetBytes(CredentialNonces.Hash(transactionCode.Length > 100 ? "" : transactionCode));
            if (!CryptographicOperations.FixedTimeEquals(given, Encoding.ASCII.GetBytes(offer.TransactionCodeHash)))
            {
                await db.CredentialOffers.Where(o => o.CodeHash == hash).ExecuteUpdateAsync(set => set.SetProperty(o => o.FailedAttempts, o => o.FailedAttempts + 1), cancellationToken);
                return (null, "invalid_grant", "the tx_code does not match");
            }
        }
        else if (transactionCode is not null)
        {
            return (null, "invalid_request", "this offer has no tx_code");
        }

        // Whoever redeems first wins; a replay finds the code used.
        var spent = await db.CredentialOffers.Where(o => o.CodeHash == hash && o.UsedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(o => o.UsedAt, now), cancellationToken);
        return spent == 1 ? (offer, null, null) : (null, "invalid_grant", "the pre-authorized code is unknown, used, or expired");
    }

    /// <summary>An access token for the credential endpoint only: issued by <see cref="CredentialAccess.PreAuthorizedServer"/>, for the credential issuer as audience, with the offer's scope.</summary>
    public string AccessToken(CredentialOfferRecord offer, CredentialOptions credential)
    {
        var now = time.GetUtcNow();
        var server = CredentialAccess.PreAuthorizedServer(issuer);
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = server,
            Audience = issuer.Name,
            TokenType = "at+jwt",
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + AccessTokenLifetime).UtcDateTime,
            Claims = new Dictionary<string, object>
            {
                ["sub"] = offer.UserId.ToString(),
                ["scope"] = credential.EffectiveScope,
                ["jti"] = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
            },
            SigningCredentials = keys.SigningCredentials(SecurityAlgorithms.EcdsaSha256),
        });
    }
}
