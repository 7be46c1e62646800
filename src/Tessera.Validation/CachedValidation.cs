namespace Tessera.Validation;

/// <summary>
/// One token's standing in the validation cache. A trusted entry answers without a signature check until
/// <see cref="RecheckAt"/>; a refused one (introspection said inactive) answers until the token's end. Neither
/// outlives <see cref="ExpiresAt"/> (the token's <c>exp</c> plus the allowed skew). Times are UTC ticks, so the hit
/// path compares integers. Immutable: a recheck replaces the entry.
/// </summary>
internal sealed class CachedValidation
{
    private CachedValidation(VerifiedAccessToken token, TesseraValidationResult answer, long confirmedAt, long recheckAt, long expiresAt)
    {
        Token = token;
        Answer = answer;
        ConfirmedAt = confirmedAt;
        RecheckAt = recheckAt;
        ExpiresAt = expiresAt;
    }

    public VerifiedAccessToken Token { get; }

    /// <summary>The result a cache hit returns, made once so a hit allocates nothing.</summary>
    public TesseraValidationResult Answer { get; }

    public bool Trusted => Answer.IsValid;

    /// <summary>When the token was last found good, locally or by Tessera.</summary>
    public long ConfirmedAt { get; }

    public long RecheckAt { get; }

    public long ExpiresAt { get; }

    public static CachedValidation Trust(VerifiedAccessToken token, DateTimeOffset confirmedAt, DateTimeOffset recheckAt, TimeSpan clockSkew)
    {
        var expiresAt = (token.ExpiresAt + clockSkew).UtcTicks;
        return new(token, TesseraValidationResult.Valid(token.Principal, ValidationSource.Cache), confirmedAt.UtcTicks, Math.Min(recheckAt.UtcTicks, expiresAt), expiresAt);
    }

    /// <summary>Trusted again until <paramref name="recheckAt"/> without a new confirmation (Tessera unreachable, within grace).</summary>
    public CachedValidation Postponed(DateTimeOffset recheckAt) => new(Token, Answer, ConfirmedAt, Math.Min(recheckAt.UtcTicks, ExpiresAt), ExpiresAt);

    public static CachedValidation Refuse(VerifiedAccessToken token, TesseraValidationResult refusal, TimeSpan clockSkew)
    {
        var expiresAt = (token.ExpiresAt + clockSkew).UtcTicks;
        return new(token, refusal with { Source = ValidationSource.Cache }, 0, expiresAt, expiresAt);
    }
}
