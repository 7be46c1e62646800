using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Credentials.Status;

/// <summary>A verified Status List Token: the list, the URI it is published at, and how long it may be cached.</summary>
public sealed record StatusListToken(string Subject, StatusList List, DateTimeOffset IssuedAt)
{
    public const string Type = "statuslist+jwt";

    public string? Issuer { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The <c>ttl</c> claim: how long a verifier may use this token before fetching a fresh one (§5.1).</summary>
    public TimeSpan? TimeToLive { get; init; }

    /// <summary>The status of the token <paramref name="reference"/> points at; refused when it points at another list.</summary>
    public CredentialResult<StatusValue> Lookup(StatusReference reference) => reference.Uri != Subject
        ? CredentialResult<StatusValue>.Fail(CredentialError.StatusListSubjectMismatch, "The status reference names another status list.")
        : List.Lookup(reference.Index);
}

/// <summary>What a Status List Token says: the list's URI (<c>sub</c>), its issuer, and its lifetimes.</summary>
public sealed record StatusListTokenRequest(string Subject, StatusList List)
{
    public string? Issuer { get; init; }

    /// <summary>Sets <c>exp</c> to issuance plus this (§5.1, RECOMMENDED).</summary>
    public TimeSpan? Lifetime { get; init; }

    /// <summary>Sets <c>ttl</c> (§5.1, RECOMMENDED).</summary>
    public TimeSpan? TimeToLive { get; init; }
}

/// <summary>Builds and verifies Status List Tokens in JWT form (draft-ietf-oauth-status-list §5.1, §8.3).</summary>
public sealed class StatusListTokens(TimeProvider time)
{
    public string Create(StatusListTokenRequest request, SigningCredentials signingCredentials)
    {
        var payload = new JsonObject { ["sub"] = request.Subject };
        if (request.Issuer is not null)
        {
            payload["iss"] = request.Issuer;
        }

        var now = time.GetUtcNow();
        payload["iat"] = now.ToUnixTimeSeconds();
        if (request.Lifetime is { } lifetime)
        {
            payload["exp"] = (now + lifetime).ToUnixTimeSeconds();
        }

        if (request.TimeToLive is { } ttl)
        {
            payload["ttl"] = (long)ttl.TotalSeconds;
        }

        payload["status_list"] = request.List.ToJson();
        return CompactJws.Sign(payload, signingCredentials, StatusListToken.Type);
    }

    /// <summary>
    /// Verifies a Status List Token fetched from <paramref name="expectedSubject"/> (the <c>uri</c> of the status
    /// reference): typed <c>statuslist+jwt</c>, signed by one of <paramref name="keys"/> with an allowed algorithm, its
    /// <c>sub</c> that URI, <c>iat</c> present, not expired, and a well-formed list.
    /// </summary>
    public async Task<CredentialResult<StatusListToken>> VerifyAsync(string token, IReadOnlyList<SecurityKey> keys, string expectedSubject,
        IReadOnlyCollection<string>? allowedAlgorithms = null, TimeSpan? clockSkew = null, int maxListBytes = 16 * 1024 * 1024)
    {
        var algorithms = allowedAlgorithms ?? SdJwt.SdJwtVerificationPolicy.DefaultAlgorithms;
        var skew = clockSkew ?? TimeSpan.FromSeconds(60);
        if (token.Length > maxListBytes * 2 || CompactJws.Read(token) is not { } jws)
        {
            return CredentialResult<StatusListToken>.Fail(CredentialError.StatusListTokenMalformed, "The status list token is not a readable JWS.");
        }

        if (!CompactJws.AlgorithmAllowed(jws, algorithms))
        {
            return CredentialResult<StatusListToken>.Fail(CredentialError.AlgorithmNotAllowed, "The status list token's alg is not allowed.");
        }

        if (jws.Typ != StatusListToken.Type)
        {
            return CredentialResult<StatusListToken>.Fail(CredentialError.TypeNotAllowed, "The status list token's typ is not statuslist+jwt.");
        }

        if (!await CompactJws.SignatureValidAsync(token, keys, algorithms, StatusListToken.Type).ConfigureAwait(false))
        {
            return CredentialResult<StatusListToken>.Fail(CredentialError.SignatureInvalid, "The status list token's signature does not verify with the issuer's keys.");
        }

        if (CompactJws.Payload(jws) is not { } payload)
        {
            return CredentialResult<StatusListToken>.Fail(CredentialError.StatusListTokenMalformed, "The status list token's payload is not a JSON object.");
        }

        if (CompactJws.ReadString(payload, "sub") != expectedSubject)
        {
            return CredentialResult<StatusListToken>.Fail(CredentialError.StatusListSubjectMismatch, "The status list token's sub is not the URI it was fetched for.");
        }

        if (!CompactJws.TryReadNumericDate(payload, "iat", out var iat) || iat is null || !CompactJws.TryReadNumericDate(payload, "exp", out var exp)
            || !CompactJws.TryReadNumericDate(payload, "ttl", out var ttl) || ttl < 0)
        {
            return CredentialResult<StatusListToken>.Fail(CredentialError.StatusListTokenMalformed, "The status list token's iat, exp or ttl is missing or not a number.");
        }

        var now = time.GetUtcNow().ToUnixTimeSeconds();
        if (exp is not null && now - (long)skew.TotalSeconds >= exp)
        {
            return CredentialResult<StatusListToken>.Fail(CredentialError.Expired, "The status list token has expired.");
        }

        if (payload["status_list"] is not JsonObject statusList || statusList["bits"] is not JsonValue bitsValue || bitsValue.GetValueKind() != JsonValueKind.Number
            || !bitsValue.TryGetValue<int>(out var bits) || CompactJws.ReadString(statusList, "lst") is not { } lst)
        {
            return CredentialResult<StatusListToken>.Fail(CredentialError.StatusListTokenMalformed, "The status list token has no status_list {bits, lst}.");
        }

        var list = StatusList.Decompress(bits, lst, maxListBytes);
        if (!list.Succeeded)
        {
            return list.Failure!;
        }

        return CredentialResult<StatusListToken>.Success(new StatusListToken(expectedSubject, list.Value!, CompactJws.ToTime(iat.Value))
        {
            Issuer = CompactJws.ReadString(payload, "iss"),
            ExpiresAt = exp is null ? null : CompactJws.ToTime(exp.Value),
            TimeToLive = ttl is null ? null : TimeSpan.FromSeconds(Math.Min(ttl.Value, (long)TimeSpan.MaxValue.TotalSeconds - 1)),
        });
    }
}
