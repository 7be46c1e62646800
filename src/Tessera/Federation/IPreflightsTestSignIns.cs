namespace Tessera.Federation;

/// <summary>
/// A connector that can look at a test sign-in's request before the admin's browser is sent with it: an IdP that
/// refuses the redirect URI shows its own error page and never comes back, so a test would otherwise end in silence.
/// </summary>
public interface IPreflightsTestSignIns
{
    /// <summary>What the IdP's answer to <paramref name="request"/> says is wrong, or null when it looks like a sign-in page.</summary>
    Task<UpstreamDiagnosis?> PreflightAsync(Connection connection, Uri request, UpstreamTicket ticket, CancellationToken cancellationToken);
}
