using Microsoft.IdentityModel.Tokens;
using Tessera.Credentials.Vc;
using Tessera.Exchange;
using Tessera.Keys;

namespace Tessera.Credentials;

/// <summary>
/// The keys a trusted credential issuer signs with: Tessera's key ring for its own credentials, the configured JWK Set,
/// or the issuer's JWT VC issuer metadata (draft-ietf-oauth-sd-jwt-vc §5), fetched through the same SSRF-guarded,
/// cached fetch as trusted token issuers' keys and fetched again, at most once per refresh interval, for an unknown
/// <c>kid</c>. The metadata must name the issuer exactly and carry its keys inline.
/// </summary>
public sealed class TrustedCredentialKeys(KeyRing keyRing, IssuerKeyCache cache)
{
    public async ValueTask<IReadOnlyList<SecurityKey>> KeysAsync(TrustedCredentialIssuer issuer, string? kid, CancellationToken cancellationToken)
    {
        if (issuer.IsTessera)
        {
            return [.. keyRing.VerificationKeys()];
        }

        if (issuer.InlineKeys is not null)
        {
            return issuer.InlineKeys;
        }

        var keys = await cache.GetKeysAsync("vc:" + issuer.Id, JwtVcIssuerMetadata.WellKnownUri(issuer.Issuer), issuer.Keys, kid,
            body => JwtVcIssuerMetadata.Read(body, issuer.Issuer).Value?.Keys, cancellationToken);
        return keys;
    }
}
