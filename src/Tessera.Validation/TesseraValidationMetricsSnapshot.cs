namespace Tessera.Validation;

/// <summary>Totals of <see cref="TesseraValidationMetrics"/> at one moment, for an app to print or serve.</summary>
public sealed record TesseraValidationMetricsSnapshot(
    long ValidFromCache,
    long ValidLocal,
    long ValidIntrospection,
    long InvalidFromCache,
    long InvalidLocal,
    long InvalidIntrospection,
    long CacheHits,
    long IntrospectionsActive,
    long IntrospectionsInactive,
    long IntrospectionsFailed,
    long SessionsRevoked,
    long AccountsDisabled,
    long AccountsEnabled,
    long SignalsAccepted,
    long SignalsRefused,
    long KeyRefreshes,
    int CachedTokens)
{
    public long Validations => ValidFromCache + ValidLocal + ValidIntrospection + InvalidFromCache + InvalidLocal + InvalidIntrospection;

    public long Revocations => SessionsRevoked + AccountsDisabled + AccountsEnabled;
}
