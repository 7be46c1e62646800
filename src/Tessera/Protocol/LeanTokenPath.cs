using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Server;
using Tessera.Audit;
using Tessera.Exchange;
using Tessera.Hosting;
using Tessera.Keys;
using Tessera.Protocol.Handlers;
using Tessera.Risk;
using Tessera.Telemetry;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Tessera.Protocol;

/// <summary>
/// The commonest token requests of services, a client_credentials grant and an RFC 8693 exchange of a foreign JWT, each
/// with HTTP Basic client authentication, answered without OpenIddict's per-request pipeline, whose handler dispatch
/// costs more than the grant itself. Only a request that will succeed is answered here: every check OpenIddict and
/// Tessera's handlers make on it is made here too (content type, transport, parameters and their sizes, the client's
/// registration and type in the configuration and in the application store, its secret, its permissions for the
/// endpoint, the grant and each scope, the lockout; for an exchange, the subject token and the policy through the same
/// code the pipeline runs, <see cref="LeanTokenExchange"/>), and the token, the response, the audit row and the metrics
/// are the ones the pipeline would produce. Anything else, a failed check included, goes on to OpenIddict unchanged,
/// which answers it with the protocol's own error and counts and audits the failure: a refusal never takes this path.
/// </summary>
public sealed class LeanTokenPath(
    RequestDelegate next,
    ClientRegistry clients,
    AudienceSelector audiences,
    ParameterLimits limits,
    FailureBursts bursts,
    KeyRing keys,
    AuditLog audit,
    TesseraTelemetry telemetry,
    IOptionsMonitor<OpenIddictServerOptions> server,
    ApplicationCache applicationCache,
    TesseraIssuer issuer,
    TimeProvider time)
{
    private const string FormContentType = "application/x-www-form-urlencoded";
    private static readonly PathString TokenPath = "/" + ProtocolEndpoints.Token;
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };
    private static readonly HashSet<string> UserScopes = IssueClientCredentialsTokens.UserScopes;

    public async Task InvokeAsync(HttpContext http)
    {
        // The token endpoint under the issuer's path exactly as discovery names it; any other spelling is the pipeline's to judge.
        if (!HttpMethods.IsPost(http.Request.Method) || !http.Request.Path.Equals(TokenPath, StringComparison.Ordinal)
            || !string.Equals(http.Request.PathBase.Value ?? "", issuer.PathBase, StringComparison.Ordinal)
            || !IsUtf8Form(http.Request.ContentType)
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

    /// <summary>
    /// A form as the lean path reads it: <c>application/x-www-form-urlencoded</c>, bare or with <c>charset=UTF-8</c> (as
    /// openid-client sends it), which BoundedForms read as UTF-8 either way. Any other parameter or charset is the
    /// pipeline's to judge.
    /// </summary>
    private static bool IsUtf8Form(string? contentType) =>
        string.Equals(contentType, FormContentType, StringComparison.OrdinalIgnoreCase)
        || Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var type)
        && type.MediaType.Equals(FormContentType, StringComparison.OrdinalIgnoreCase)
        && type.Parameters.All(p => p.Name.Equals("charset", StringComparison.OrdinalIgnoreCase) && Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(p.Value).Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    private async Task<bool> TryIssueAsync(HttpContext http, IFormCollection form)
    {
        // Each parameter once; client authentication by HTTP Basic only, of a confidential client registered for the grant.
        var grant = form[Parameters.GrantType].ToString();
        if (form.Any(p => p.Value.Count != 1) || grant is not (GrantTypes.ClientCredentials or GrantTypes.TokenExchange)
            || BasicClientCredentials.Read(http.Request) is not { WellFormed: true, Plain: true, ClientId: { } clientId, Secret: { } secret }
            || clients.Find(clientId) is not { Type: ClientTypes.Confidential } client || !client.GrantTypes.Contains(grant)
            || bursts.IsClientLockedOut(clientId, out _))
        {
            return false; // anything to decode, or any oddity, is OpenIddict's to judge
        }

        var request = new OpenIddictRequest(form);
        if (limits.Violation(request) is not null)
        {
            return false;
        }

        return grant == GrantTypes.ClientCredentials
            ? await TryClientCredentialsAsync(http, form, client, secret)
            : await TryExchangeAsync(http, form, request, client, secret);
    }

    private async Task<bool> TryClientCredentialsAsync(HttpContext http, IFormCollection form, ClientOptions client, string secret)
    {
        // Exactly grant_type and at most scope.
        if (form.Count > 2 || form.Any(p => p.Key is not (Parameters.GrantType or Parameters.Scope))
            || GrantedScopes(form, client) is not { } granted)
        {
            return false;
        }

        var (scopes, requested) = granted;
        if (!await AuthenticateAsync(http, client, secret, Permissions.GrantTypes.ClientCredentials, requested ? scopes : []))
        {
            return false;
        }

        await WriteTokenAsync(http, client, scopes, requested);
        return true;
    }

    /// <summary>
    /// A token exchange whose subject is a foreign JWT and whose answer is an access token, for the audience or resource
    /// named or the policy's one audience; an actor, another token type asked for, or any refusal is the pipeline's. A
    /// resource is checked as the pipeline checks it: one of the client's audiences (RFC 8707 §2,
    /// <see cref="RestrictResourcesToClientAudiences"/>) and in its permissions (OpenIddict's resource permission).
    /// </summary>
    private async Task<bool> TryExchangeAsync(HttpContext http, IFormCollection form, OpenIddictRequest request, ClientOptions client, string secret)
    {
        IReadOnlyList<string> resources = request.GetResources();
        if (!LeanTokenExchange.Answers(form) || RequestedScopes(form, client) is not { } requested || !audiences.AllAllowed(client, resources)
            || !await AuthenticateAsync(http, client, secret, Permissions.GrantTypes.TokenExchange, requested, resources))
        {
            return false;
        }

        var exchange = await http.RequestServices.GetRequiredService<LeanTokenExchange>().ExchangeAsync(request, client, http.RequestAborted);
        if (exchange is null || LeanTokenExchange.TokenClaims(exchange.Principal, client) is not { } claims)
        {
            return false;
        }

        var now = time.GetUtcNow();
        var expires = now + exchange.Principal.GetAccessTokenLifetime()!.Value;
        var token = CreateToken(client, claims, now, expires);
        var record = exchange.Record;
        // RFC 8693 §2.2.1: the scopes granted are named, as the pipeline answers.
        await WriteAsync(http, token, expires, ExchangeTokenTypes.AccessToken, record.Scopes,
            AuditProtocolResponses.Exchange(Row(http, AuditEvents.TokenExchanged, client), request, record, refusal: null));
        telemetry.Exchange(null, record.Subject?.Source);
        telemetry.TokenIssued(GrantTypes.TokenExchange, lean: true);
        return true;
    }

    /// <summary>
    /// The client's authentication and permissions in the application store, as OpenIddict's validation checks them:
    /// its type, its permissions for the endpoint, the grant, each scope requested (scopes granted by default are not
    /// requested, and not checked) and each resource, and its secret.
    /// </summary>
    private async Task<bool> AuthenticateAsync(HttpContext http, ClientOptions client, string secret, string grantPermission, IReadOnlyList<string> requestedScopes, IReadOnlyList<string>? resources = null)
    {
        resources ??= [];
        if (applicationCache.TryGetByClientId(client.ClientId, out var cached) && cached is not null
            && _admitted.TryGetValue(cached, out var admitted) && admitted.Admits(secret, grantPermission, requestedScopes, resources))
        {
            return true;
        }

        string[] permissions =
        [
            Permissions.Endpoints.Token, grantPermission,
            .. requestedScopes.Select(s => Permissions.Prefixes.Scope + s),
            .. resources.Select(r => Permissions.Prefixes.Resource + r),
        ];

        var applications = http.RequestServices.GetRequiredService<IOpenIddictApplicationManager>();
        var cancellationToken = http.RequestAborted;
        if (await applications.FindByClientIdAsync(client.ClientId, cancellationToken) is not { } application
            || !await applications.HasClientTypeAsync(application, ClientTypes.Confidential, cancellationToken))
        {
            return false;
        }

        foreach (var permission in permissions)
        {
            if (!await applications.HasPermissionAsync(application, permission, cancellationToken))
            {
                return false;
            }
        }

        if (!await applications.ValidateClientSecretAsync(application, secret, cancellationToken))
        {
            return false;
        }

        if (application is OpenIddictEntityFrameworkCoreApplication { ClientSecret: { } hash } entity && ClientSecretHasher.IsFastHash(hash))
        {
            _admitted.AddOrUpdate(entity, new AdmittedClient(hash, await applications.GetPermissionsAsync(application, cancellationToken)));
        }

        return true;
    }

    /// <summary>
    /// What the application manager answered for a confidential client it admitted, kept with the very application instance
    /// it answered for, when the secret is kept as a fast hash: later requests with the same secret and permissions are
    /// admitted without a scope, a store and a database context of their own. Any change to a registration clears
    /// <see cref="ApplicationCache"/>, which then hands out a new instance (and the old one's entry goes with it). Anything
    /// else (another secret, a previous one in its overlap, a permission not held) is asked of the manager again.
    /// </summary>
    private readonly ConditionalWeakTable<OpenIddictEntityFrameworkCoreApplication, AdmittedClient> _admitted = new();

    private sealed class AdmittedClient(string secretHash, IReadOnlyCollection<string> permissions)
    {
        private readonly HashSet<string> _permissions = [.. permissions];

        // The scopes and resources the scope and resource permissions name, so that a request's are looked up as sent.
        private readonly HashSet<string> _scopes = Named(permissions, Permissions.Prefixes.Scope);
        private readonly HashSet<string> _resources = Named(permissions, Permissions.Prefixes.Resource);

        /// <summary>Whether the manager's answer covers the token endpoint, the grant, each scope and resource, and the secret.</summary>
        public bool Admits(string secret, string grantPermission, IReadOnlyList<string> scopes, IReadOnlyList<string> resources) =>
            _permissions.Contains(Permissions.Endpoints.Token) && _permissions.Contains(grantPermission)
            && AllIn(scopes, _scopes) && AllIn(resources, _resources) && ClientSecretHasher.VerifyFastHash(secret, secretHash);

        private static HashSet<string> Named(IEnumerable<string> permissions, string prefix) =>
            [.. permissions.Where(p => p.StartsWith(prefix, StringComparison.Ordinal)).Select(p => p[prefix.Length..])];

        private static bool AllIn(IReadOnlyList<string> values, HashSet<string> set)
        {
            for (var i = 0; i < values.Count; i++)
            {
                if (!set.Contains(values[i]))
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>
    /// The scopes the token carries, and whether they were requested: those requested (<see cref="RequestedScopes"/>); or,
    /// when none are, all of the client's API scopes. Null when the request is not one the lean path answers.
    /// </summary>
    private static (IReadOnlyList<string> Scopes, bool Requested)? GrantedScopes(IFormCollection form, ClientOptions client) =>
        !form.ContainsKey(Parameters.Scope) ? ([.. client.Scopes.Where(s => !UserScopes.Contains(s))], false)
        : RequestedScopes(form, client) is { } requested ? (requested, true)
        : null;

    /// <summary>
    /// The scopes requested (none when the parameter is absent), each once, each registered for the client and none a
    /// user scope; null when the request is not one the lean path answers.
    /// </summary>
    private static IReadOnlyList<string>? RequestedScopes(IFormCollection form, ClientOptions client)
    {
        if (!form.TryGetValue(Parameters.Scope, out var value))
        {
            return [];
        }

        var requested = value.ToString().Split(' ');
        for (var i = 0; i < requested.Length; i++)
        {
            // List<string>.Contains and Array.IndexOf compare strings ordinally.
            var scope = requested[i];
            if (scope.Length == 0 || UserScopes.Contains(scope) || !client.Scopes.Contains(scope) || Array.IndexOf(requested, scope, 0, i) >= 0)
            {
                return null;
            }
        }

        return requested;
    }

    /// <summary>The RFC 9068 access token, response, audit row and metric that OpenIddict's pipeline and Tessera's handlers write for this grant.</summary>
    private async Task WriteTokenAsync(HttpContext http, ClientOptions client, IReadOnlyList<string> scopes, bool requested)
    {
        var options = server.CurrentValue;
        var now = time.GetUtcNow();
        var lifetime = client.AccessTokenLifetime ?? options.AccessTokenLifetime ?? TimeSpan.FromHours(1);
        var expires = now + lifetime;
        var audience = audiences.Select(client, []);
        var token = CreateToken(client, new Dictionary<string, object>(8, StringComparer.Ordinal)
        {
            [Claims.Audience] = audience.Count == 1 ? audience[0] : audience.ToArray(),
            [Claims.Scope] = string.Join(' ', scopes),
            [Claims.JwtId] = Guid.NewGuid().ToString(),
            [Claims.Subject] = client.ClientId,
            [Claims.Private.Presenter] = client.ClientId,
            [Claims.ClientId] = client.ClientId,
        }, now, expires);
        // RFC 6749 §5.1: the scope is named when it is not what was asked for.
        await WriteAsync(http, token, expires, issuedTokenType: null, requested ? null : string.Join(' ', scopes), Row(http, AuditEvents.TokenIssued, client) with
        {
            Detail = new Dictionary<string, string?>
            {
                ["grant_type"] = GrantTypes.ClientCredentials,
                ["scope"] = string.Join(' ', scopes),
                ["issued"] = "access_token",
            },
        });
        telemetry.TokenIssued(GrantTypes.ClientCredentials, lean: true);
    }

    /// <summary>
    /// An RFC 9068 access token from Tessera, signed with the key ring's current key for the client's algorithm: written
    /// by <see cref="CompactJws"/>, or by the handler it matches byte for byte when the key is not one it writes for.
    /// </summary>
    private string CreateToken(ClientOptions client, Dictionary<string, object> claims, DateTimeOffset now, DateTimeOffset expires)
    {
        var issuer = server.CurrentValue.Issuer!.AbsoluteUri;
        var credentials = keys.SigningCredentials(client.SigningAlgorithm ?? SecurityAlgorithms.EcdsaSha256);
        return CompactJws.TryCreate(credentials, JsonWebTokenTypes.AccessToken, issuer, now.UtcDateTime, expires.UtcDateTime, claims)
            ?? Handler.CreateToken(new SecurityTokenDescriptor
            {
                Issuer = issuer,
                IssuedAt = now.UtcDateTime,
                Expires = expires.UtcDateTime,
                TokenType = JsonWebTokenTypes.AccessToken,
                Claims = claims,
                SigningCredentials = credentials,
            });
    }

    private static AuditEvent Row(HttpContext http, string name, ClientOptions client) => new(name, AuditEvent.Success)
    {
        ClientId = client.ClientId,
        IpAddress = http.Connection.RemoteIpAddress?.ToString(),
        UserAgent = http.Request.Headers.UserAgent.ToString(),
    };

    /// <summary>RFC 6749 §5.1 as OpenIddict answers, never cached; the audit row is written before the answer leaves.</summary>
    private async Task WriteAsync(HttpContext http, string token, DateTimeOffset expires, string? issuedTokenType, string? scope, AuditEvent row)
    {
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json;charset=UTF-8";
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
        response.Headers.Expires = "Thu, 01 Jan 1970 00:00:00 GMT";
        await audit.RecordAsync(row);

        // Written into the thread's scratch buffer and copied into the response with no await in between.
        var json = ScratchJson.Start();
        json.WriteStartObject();
        json.WriteString(Parameters.AccessToken, token);
        if (issuedTokenType is not null)
        {
            json.WriteString(Parameters.IssuedTokenType, issuedTokenType);
        }

        json.WriteString(Parameters.TokenType, TokenTypes.Bearer);
        json.WriteNumber(Parameters.ExpiresIn, (long)Math.Floor((expires - time.GetUtcNow()).TotalSeconds));
        if (scope is not null)
        {
            json.WriteString(Parameters.Scope, scope);
        }

        json.WriteEndObject();
        var body = ScratchJson.Written(json);
        response.ContentLength = body.Length;
        response.BodyWriter.Write(body);
        await response.BodyWriter.FlushAsync(http.RequestAborted);
    }
}
