using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;
using Tessera.Credentials.SdJwt;
using Tessera.Credentials.Status;

namespace Tessera.Credentials.Vc;

/// <summary>One SD-JWT VC to issue: its type, issuer, holder, status entry, lifetime and claims.</summary>
public sealed record SdJwtVcIssuance
{
    public required string Vct { get; init; }

    public required string Issuer { get; init; }

    /// <summary>The credential's own claims (no <c>iss</c>, <c>vct</c>, <c>iat</c>, <c>exp</c>, <c>cnf</c> or <c>status</c>: those are set from the other members).</summary>
    public required JsonObject Claims { get; init; }

    /// <summary>Which of <see cref="Claims"/> are selectively disclosable.</summary>
    public IReadOnlyCollection<ClaimPath> Disclosable { get; init; } = [];

    public required TimeSpan Lifetime { get; init; }

    public JsonWebKey? HolderKey { get; init; }

    /// <summary>The credential's entry in a Token Status List, if it has one.</summary>
    public StatusReference? Status { get; init; }

    public string? Subject { get; init; }

    public int MinDecoys { get; init; } = 1;

    public int MaxDecoys { get; init; } = 3;
}

/// <summary>Issues SD-JWT VCs (draft-ietf-oauth-sd-jwt-vc §3): typed <c>dc+sd-jwt</c>, with <c>vct</c>, <c>iss</c>, <c>iat</c>, <c>exp</c>, <c>cnf</c> and <c>status</c> always in the clear.</summary>
public sealed class SdJwtVcIssuer(TimeProvider time)
{
    private static readonly string[] SetByIssuer = ["iss", "vct", "iat", "exp", "nbf", "cnf", "status", "sub", "vct#integrity"];

    public CredentialResult<IssuedSdJwt> Issue(SdJwtVcIssuance issuance, SigningCredentials signingCredentials)
    {
        ArgumentNullException.ThrowIfNull(issuance);
        if (SetByIssuer.FirstOrDefault(issuance.Claims.ContainsKey) is { } reserved)
        {
            return CredentialResult<IssuedSdJwt>.Fail(CredentialError.ReservedClaimName, $"The claim '{reserved}' is set by the issuer, not taken from the claims.");
        }

        if (issuance.Disclosable.FirstOrDefault(p => p.Segments.Count > 0 && SdJwtVcNames.NeverDisclosable.Contains(p.Segments[0].ClaimName ?? "")) is { } path)
        {
            return CredentialResult<IssuedSdJwt>.Fail(CredentialError.NotSelectivelyDisclosable, $"The claim at {path} must stay in the clear in an SD-JWT VC.");
        }

        var now = time.GetUtcNow();
        var claims = new JsonObject
        {
            ["iss"] = issuance.Issuer,
            ["vct"] = issuance.Vct,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = (now + issuance.Lifetime).ToUnixTimeSeconds(),
        };
        if (issuance.Subject is not null)
        {
            claims["sub"] = issuance.Subject;
        }

        if (issuance.Status is not null)
        {
            claims[StatusReference.ClaimName] = issuance.Status.ToJson();
        }

        foreach (var (name, value) in issuance.Claims)
        {
            claims[name] = value?.DeepClone();
        }

        return new SdJwtIssuer().Issue(new SdJwtIssuance
        {
            Claims = claims,
            Disclosable = issuance.Disclosable,
            HolderKey = issuance.HolderKey,
            Type = SdJwtVcNames.Type,
            MinDecoys = issuance.MinDecoys,
            MaxDecoys = issuance.MaxDecoys,
        }, signingCredentials);
    }
}
