using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tessera.Audit;
using Tessera.Hosting;
using Tessera.Keys;
using Tessera.Storage;

namespace Tessera.Admin;

/// <summary>
/// Authenticates Admin API requests with Tessera's own access tokens (RFC 9068 JWTs from the client credentials
/// grant), verified against the key ring: issuer, <c>typ</c> at+jwt, audience Tessera itself, lifetime, not revoked,
/// and a client that is still registered. Failures answer as RFC 6750 §3.1 says: 401 with <c>invalid_token</c>
/// (or no error code when no token was sent), 403 with <c>insufficient_scope</c> and the scope that is needed.
/// </summary>
public sealed partial class AdminAuthentication(KeyRing keys, TesseraConfiguration configuration, IServiceScopeFactory scopeFactory, TesseraIssuer issuer, TimeProvider time, AuditLog audit, ILogger<AdminAuthentication> logger)
{
    public const string Realm = "tessera-admin";
    private const string CallerItem = "tessera.admin.caller";
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    public static AdminCaller Caller(HttpContext http) => (AdminCaller)http.Items[CallerItem]!;

    /// <summary>The endpoint filter of the <c>/admin/v1</c> group: any admin scope lets a request in; each endpoint checks its own.</summary>
    public static async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var http = invocation.HttpContext;
        var authentication = http.RequestServices.GetRequiredService<AdminAuthentication>();
        var header = http.Request.Headers.Authorization;
        if (header.Count != 1 || !header[0]!.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            authentication.Refused(http, null, "no bearer token");
            http.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{Realm}\"";
            return new AdminProblem(401, "unauthorized", "Authentication required", "Send an access token of a Tessera client with an admin scope as a bearer token.").ToResult();
        }

        var (caller, reason) = await authentication.AuthenticateAsync(header[0]!["Bearer ".Length..].Trim(), http.RequestAborted);
        if (caller is null)
        {
            authentication.Refused(http, null, reason!);
            http.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{Realm}\", error=\"invalid_token\", error_description=\"{reason}\"";
            return new AdminProblem(401, "invalid_token", "The access token is not valid", $"The access token was refused: {reason}.").ToResult();
        }

        if (!caller.IsPlatformAdmin && !caller.Organizations.Any())
        {
            return authentication.InsufficientScope(http, caller, AdminCaller.PlatformScope);
        }

        http.Items[CallerItem] = caller;
        return await next(invocation);
    }

    /// <summary>403 for a caller whose token lacks <paramref name="scope"/>, audited.</summary>
    public IResult InsufficientScope(HttpContext http, AdminCaller caller, string scope)
    {
        Refused(http, caller.ClientId, $"insufficient scope: {scope} is needed");
        http.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{Realm}\", error=\"insufficient_scope\", scope=\"{scope}\"";
        return new AdminProblem(403, "insufficient_scope", "Insufficient scope", $"This request needs an access token with the scope {scope}.").ToResult();
    }

    private async Task<(AdminCaller? Caller, string? Reason)> AuthenticateAsync(string token, CancellationToken cancellationToken)
    {
        if (token.Length is 0 or > 16 * 1024)
        {
            return (null, "the token is empty or too long");
        }

        var result = await Handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = issuer.Name,
            ValidAudience = issuer.Name,
            ValidTypes = ["at+jwt"],
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSha256],
            IssuerSigningKeys = keys.VerificationKeys(),
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ClockSkew = TimeSpan.FromSeconds(30),
            LifetimeValidator = (notBefore, expires, _, p) => Federation.TokenLifetime.Holds(time.GetUtcNow(), notBefore, expires, p.ClockSkew),
        });
        if (!result.IsValid)
        {
            LogTokenRefused(result.Exception);
            return (null, result.Exception switch
            {
                SecurityTokenExpiredException => "it has expired",
                SecurityTokenInvalidAudienceException => $"it is not meant for Tessera itself (its audience must be {issuer.Name})",
                SecurityTokenInvalidIssuerException => "it was issued by another issuer",
                SecurityTokenInvalidTypeException => "it is not an access token (typ at+jwt)",
                _ => "its signature or format does not verify",
            });
        }

        var jwt = (JsonWebToken)result.SecurityToken;
        var clientId = jwt.TryGetPayloadValue<string>("client_id", out var id) ? id : null;
        if (string.IsNullOrEmpty(clientId) || configuration.Current.FindClient(clientId) is null)
        {
            return (null, "its client is no longer registered");
        }

        await using var scope = scopeFactory.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
        if (!jwt.TryGetPayloadValue<string>("jti", out var jti) || await db.RevokedTokens.AnyAsync(r => r.TokenId == jti, cancellationToken))
        {
            return (null, "it has been revoked");
        }

        var scopes = (jwt.TryGetPayloadValue<string>("scope", out var scopeClaim) ? scopeClaim : "")
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(s => s.StartsWith(AdminCaller.PlatformScope, StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
        return (new AdminCaller(clientId, scopes), null);
    }

    private void Refused(HttpContext http, string? clientId, string reason) =>
        audit.Record(new AuditEvent(AuditEvents.AdminRefused, AuditEvent.Failure)
        {
            ClientId = clientId,
            IpAddress = http.Connection.RemoteIpAddress?.ToString(),
            UserAgent = Bounded(http.Request.Headers.UserAgent.ToString()),
            Reason = reason,
            Detail = new Dictionary<string, string?> { ["method"] = http.Request.Method, ["path"] = Bounded(http.Request.Path.Value ?? "") },
        });

    private static string Bounded(string value) => value.Length > 200 ? value[..200] : value;

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Admin API access token refused")]
    private partial void LogTokenRefused(Exception? exception);
}
