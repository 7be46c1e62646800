namespace Tessera.Federation;

/// <summary>
/// A token or assertion refused for its validity window, told apart: clocks that disagree by more than the allowed
/// skew (the offset measured from when the IdP says it issued it), or clocks that agree on something issued with a
/// window that did not hold even then.
/// </summary>
internal static class ClockDiagnosis
{
    /// <param name="what">What was refused, as the administrator knows it: "ID token", "assertion".</param>
    /// <param name="notYetValid">Refused because it starts later, rather than because it already ended.</param>
    /// <param name="offset">The IdP's clock minus Tessera's, when it could be measured.</param>
    /// <param name="tesseraNow">Tessera's clock when it checked, as written.</param>
    /// <param name="bound">The start or end that failed, as the IdP wrote it.</param>
    public static UpstreamDiagnosis For(string what, bool notYetValid, TimeSpan? offset, TimeSpan skew, string? tesseraNow, string? bound)
    {
        var state = notYetValid ? "not valid yet" : "already expired";
        if (offset is { } measured && measured.Duration() <= skew)
        {
            return new UpstreamDiagnosis(UpstreamChecks.TokenLifetime,
                $"The identity provider's clock agrees with Tessera's, but its {what} was {state} when it was issued.",
                $"In your identity provider, check the validity period of this application's {what}s: it must start no later than when it is issued and last at least a minute.")
            {
                Expected = tesseraNow,
                Received = bound,
                ClockOffset = measured,
            };
        }

        var summary = offset is { } far
            ? $"The identity provider's clock is {DiagnosisText.Offset(far)} Tessera's, more than the {DiagnosisText.Duration(skew)} allowed, so its {what} is {state}."
            : $"The identity provider's {what} is {state} by Tessera's clock; the two clocks probably disagree.";
        return new UpstreamDiagnosis(UpstreamChecks.ClockSkew, summary,
            "Synchronise the clock of your identity provider's servers with an NTP time source (for a hosted identity provider, ask the operator of "
            + "Tessera to check the clock of its hosts). Tessera accepts up to " + DiagnosisText.Duration(skew) + " of difference.")
        {
            Expected = tesseraNow,
            Received = bound,
            ClockOffset = offset,
        };
    }
}
