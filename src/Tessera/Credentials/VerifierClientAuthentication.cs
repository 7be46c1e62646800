using System.Globalization;
using OpenIddict.Abstractions;
using Tessera.Audit;
using Tessera.Hosting;
using Tessera.Protocol;
using Tessera.Risk;

namespace Tessera.Credentials;

/// <summary>What authenticating the app at a verifier endpoint came to: the client, or the refusal to answer with.</summary>
public sealed record VerifierClient(ClientOptions? Client, string? Refusal, TimeSpan? RetryAfter = null);

/// <summary>
/// Authenticates the app at the verifier's endpoints as the token endpoint does for a client secret: HTTP Basic
/// (RFC 6749 §2.3.1, each part form-url-encoded) or <c>client_id</c> + <c>client_secret</c> in the form, checked by
/// OpenIddict's application manager. Only a confidential client of the configuration passes. The same
/// <c>FailureBurst</c> rule holds as at the token endpoint: a locked-out client is refused before its secret is
/// looked at, every failure is counted against the address and the client_id, and every refusal is audited.
/// </summary>
public sealed class VerifierClientAuthentication(
    IOpenIddictApplicationManager applications, TesseraConfiguration configuration, FailureBursts bursts, AuditLog audit)
{
    public async Task<VerifierClient> AuthenticateAsync(HttpContext http, IFormCollection form)
    {
        var (id, secret, wellFormed) = Credentials(http.Request, form);
        if (wellFormed && bursts.IsClientLockedOut(id, out var retryAfter))
        {
            var seconds = (long)Math.Ceiling(retryAfter.TotalSeconds);
            return Refuse(http, id, $"Too many failed authentications as this client; try again in {seconds.ToString(CultureInfo.InvariantCulture)} seconds.", retryAfter);
        }

        if (wellFormed && configuration.Current.FindClient(id!) is { Type: "confidential" } client
            && await applications.FindByClientIdAsync(id!, http.RequestAborted) is { } application
            && await applications.ValidateClientSecretAsync(application, secret!, http.RequestAborted))
        {
            return new VerifierClient(client, null);
        }

        bursts.Failed(http, FailureKind.ClientAuthentication, id);
        return Refuse(http, id, "client authentication failed");
    }

    private VerifierClient Refuse(HttpContext http, string? clientId, string description, TimeSpan? retryAfter = null)
    {
        audit.Record(new AuditEvent(AuditEvents.PresentationRefused, AuditEvent.Failure)
        {
            ClientId = clientId is { Length: > 200 } ? clientId[..200] : clientId,
            IpAddress = http.Connection.RemoteIpAddress?.ToString(),
            Reason = "invalid_client",
            Detail = new Dictionary<string, string?> { ["endpoint"] = http.Request.Path.Value, ["description"] = description },
        });
        return new VerifierClient(null, description, retryAfter);
    }

    /// <summary>The client_id and secret the request carries, and whether it carries exactly one pair of a sane size.</summary>
    private static (string? Id, string? Secret, bool WellFormed) Credentials(HttpRequest request, IFormCollection form)
    {
        string? id = null;
        string? secret = null;
        var basic = BasicClientCredentials.Read(request);
        if (basic.Present)
        {
            if (!basic.WellFormed || form.ContainsKey("client_secret"))
            {
                return (basic.ClientId, null, false); // RFC 6749 §2.3: one method per request
            }

            (id, secret) = (basic.ClientId, basic.Secret);
        }
        else if (form["client_id"].Count == 1 && form["client_secret"].Count == 1)
        {
            id = form["client_id"].ToString();
            secret = form["client_secret"].ToString();
        }
        else if (form["client_id"].Count == 1)
        {
            id = form["client_id"].ToString();
        }

        return (id, secret, !string.IsNullOrEmpty(id) && !string.IsNullOrEmpty(secret) && id.Length <= 200 && secret.Length <= 1000);
    }
}
