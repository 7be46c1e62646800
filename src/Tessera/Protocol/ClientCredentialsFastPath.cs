using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Tessera.Audit;
using Tessera.Hosting;
using Tessera.Keys;
using Tessera.Protocol.Handlers;
using Tessera.Risk;
using Tessera.Telemetry;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Tessera.Protocol;

/// <summary>
/// The commonest token request, a client_credentials grant with HTTP Basic client authentication, answered without
/// OpenIddict's per-request pipeline, whose handler dispatch costs more than the grant itself. Only a request that
/// will succeed is answered here: every check OpenIddict and Tessera's handlers make on it is made here too (content
/// type, transport, parameters and their sizes, the client's registration and type in the configuration and in the
/// application store, its secret, its permissions for the endpoint, the grant and each scope, the lockout), and the
/// token, the response, the audit row and the metric are the ones the pipeline would produce. Anything else, a failed
/// check included, goes on to OpenIddict unchanged, which answers it with the protocol's own error and counts and
/// audits the failure: a refusal never takes this path.
/// </summary>
public sealed class ClientCredentialsFastPath(
    RequestDelegate next,
    ClientRegistry clients,
    AudienceSelector audiences,
    ParameterLimits limits,
    FailureBursts bursts,
    KeyRing keys,
    AuditLog audit,
    TesseraTelemetry telemetry,
    IOptionsMonitor<OpenIddictServerOptions> server,
    TesseraIssuer issuer,
    TimeProvider time)
{
    private static readonly PathString TokenPath = "/" + ProtocolEndpoints.Token;
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };
    private static readonly HashSet<string> UserScopes = IssueClientCredentialsTokens.UserScopes;

    public async Task InvokeAsync(HttpContext http)
    {
        // The token endpoint under the issuer's path exactly as discovery names it; any other spelling is the pipeline's to judge.
        if (!HttpMethods.IsPost(http.Request.Method) || !http.Request.Path.Equals(TokenPath, StringComparison.Ordinal)
            || !string.Equals(http.Request.PathBase.Value ?? "", issuer.PathBase, StringComparison.Ordinal)
            || !string.Equals(http.Request.ContentType, "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
            || !http.Request.IsHttps && server.CurrentValue.Issuer?.Scheme == Uri.UriSchemeHttps
            || !keys.IsLoaded || http.Request.Headers.ContainsKey("DPoP"))
        {
            await next(http);
            return;
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var issued = await TryIssueAsync(http, form);
        if (!issued)
        {
            await next(http); // the form stays read; OpenIddict takes it from the request
        }
    }

    private async Task<bool> TryIssueAsync(HttpContext http, IFormCollection form)
    {
        // Exactly grant_type and at most scope, each once; client authentication by HTTP Basic only.
        if (form.Count is < 1 or > 2 || form.Any(p => p.Value.Count != 1 || p.Key is not (Parameters.GrantType or Parameters.Scope))
            || form[Parameters.GrantType] != GrantTypes.ClientCredentials
            || BasicClientCredentials.Read(http.Request) is not { WellFormed: true, Plain: true, ClientId: { } clientId, Secret: { } secret }
            || limits.Violation(new OpenIddictRequest(form)) is not null)
        {
            return false; // anything to decode, or any oddity, is OpenIddict's to judge
        }

        if (clients.Find(clientId) is not { Type: ClientTypes.Confidential } client || !client.GrantTypes.Contains(GrantTypes.ClientCredentials, StringComparer.Ordinal)
            || bursts.IsClientLockedOut(clientId, out _)
            || GrantedScopes(form, client) is not { } granted)
        {
            return false;
        }

        var (scopes, requested) = granted;

        var applications = http.RequestServices.GetRequiredService<IOpenIddictApplicationManager>();
        if (await applications.FindByClientIdAsync(clientId, http.RequestAborted) is not { } application
            || !await applications.HasClientTypeAsync(application, ClientTypes.Confidential, http.RequestAborted)
            || !await applications.HasPermissionAsync(application, Permissions.Endpoints.Token, http.RequestAborted)
            || !await applications.HasPermissionAsync(application, Permissions.GrantTypes.ClientCredentials, http.RequestAborted)
            || !await AllScopesPermittedAsync(applications, application, requested ? scopes : [], http.RequestAborted)
            || !await applications.ValidateClientSecretAsync(application, secret, http.RequestAborted))
        {
            return false;
        }

        await WriteTokenAsync(http, client, scopes, requested);
        return true;
    }

    /// <summary>
    /// The scopes the token carries, and whether they were requested: those requested, each registered for the client
    /// and none a user scope; or, when none are requested, all of the client's API scopes. Null when the request is not
    /// one the lean path answers.
    /// </summary>
    private static (List<string> Scopes, bool Requested)? GrantedScopes(IFormCollection form, ClientOptions client)
    {
        if (!form.TryGetValue(Parameters.Scope, out var value))
        {
            return ([.. client.Scopes.Where(s => !UserScopes.Contains(s))], false);
        }

        var requested = value.ToString().Split(' ');
        return requested.Any(s => s.Length == 0 || UserScopes.Contains(s) || !client.Scopes.Contains(s, StringComparer.Ordinal))
            || requested.Distinct(StringComparer.Ordinal).Count() != requested.Length
            ? null
            : ([.. requested], true);
    }

    /// <summary>OpenIddict's permission for each requested scope (scopes granted by default are not requested, and not checked).</summary>
    private static async ValueTask<bool> AllScopesPermittedAsync(IOpenIddictApplicationManager applications, object application, List<string> requested, CancellationToken cancellationToken)
    {
        foreach (var name in requested)
        {
            if (!await applications.HasPermissionAsync(application, Permissions.Prefixes.Scope + name, cancellationToken))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The RFC 9068 access token, response, audit row and metric that OpenIddict's pipeline and Tessera's handlers write for this grant.</summary>
    private async Task WriteTokenAsync(HttpContext http, ClientOptions client, List<string> scopes, bool requested)
    {
        var options = server.CurrentValue;
        var now = time.GetUtcNow();
        var lifetime = client.AccessTokenLifetime ?? options.AccessTokenLifetime ?? TimeSpan.FromHours(1);
        var expires = now + lifetime;
        var audience = audiences.Select(client, []);
        var claims = new Dictionary<string, object>(8, StringComparer.Ordinal)
        {
            [Claims.Audience] = audience.Count == 1 ? audience[0] : audience.ToArray(),
            [Claims.Scope] = string.Join(' ', scopes),
            [Claims.JwtId] = Guid.NewGuid().ToString(),
            [Claims.Subject] = client.ClientId,
            [Claims.Private.Presenter] = client.ClientId,
            [Claims.ClientId] = client.ClientId,
        };
        var token = Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Issuer!.AbsoluteUri,
            IssuedAt = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            TokenType = JsonWebTokenTypes.AccessToken,
            Claims = claims,
            SigningCredentials = keys.SigningCredentials(client.SigningAlgorithm ?? SecurityAlgorithms.EcdsaSha256),
        });

        // RFC 6749 §5.1, as OpenIddict answers, and never cached.
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json;charset=UTF-8";
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
        response.Headers.Expires = "Thu, 01 Jan 1970 00:00:00 GMT";
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(token.Length + 128);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString(Parameters.AccessToken, token);
            json.WriteString(Parameters.TokenType, TokenTypes.Bearer);
            json.WriteNumber(Parameters.ExpiresIn, (long)Math.Floor((expires - time.GetUtcNow()).TotalSeconds));
            if (!requested)
            {
                json.WriteString(Parameters.Scope, string.Join(' ', scopes)); // §5.1: named when it is not what was asked for
            }

            json.WriteEndObject();
        }

        response.ContentLength = buffer.WrittenCount;
        await audit.RecordAsync(new AuditEvent(AuditEvents.TokenIssued, AuditEvent.Success)
        {
            ClientId = client.ClientId,
            IpAddress = http.Connection.RemoteIpAddress?.ToString(),
            UserAgent = http.Request.Headers.UserAgent.ToString(),
            Detail = new Dictionary<string, string?>
            {
                ["grant_type"] = GrantTypes.ClientCredentials,
                ["scope"] = string.Join(' ', scopes),
                ["issued"] = "access_token",
            },
        });
        telemetry.TokenIssued(GrantTypes.ClientCredentials, lean: true);
        await response.Body.WriteAsync(buffer.WrittenMemory, http.RequestAborted);
    }
}
