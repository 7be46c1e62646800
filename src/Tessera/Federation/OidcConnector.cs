using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Tessera.Federation;

/// <summary>
/// OpenID Connect upstream: authorization code flow with PKCE (S256), state and nonce. The ID token is verified
/// against the issuer's published keys only, with the connection's algorithm allow-list, issuer, audience,
/// lifetime (with the connection's skew) and nonce.
/// </summary>
public sealed partial class OidcConnector(OidcMetadataCache metadata, IHttpClientFactory httpClients, TimeProvider time, ILogger<OidcConnector> logger) : IConnector, IPreflightsTestSignIns
{
    private const int MaxResponseBytes = 256 * 1024;
    private static readonly JsonWebTokenHandler TokenHandler = new() { MapInboundClaims = false };

    public string Protocol => OidcConnectionProtocol.ProtocolName;


    public async Task<UpstreamRedirect> BeginAsync(Connection connection, UpstreamTicket ticket, CancellationToken cancellationToken)
    {
        var configuration = await GetMetadataAsync(connection, cancellationToken);
        if (configuration.Error is not null)
        {
            return CannotBegin(configuration.Error, configuration.Description!, configuration.Diagnosis);
        }

        var endpoint = configuration.Value!.AuthorizationEndpoint;
        if (!IsAcceptableEndpoint(endpoint, out var authorizationEndpoint))
        {
            return CannotBegin("upstream_metadata_invalid", "The identity provider publishes no usable authorization endpoint.",
                OidcDiagnoses.UnusableEndpoint(connection.Options, "authorization_endpoint", endpoint));
        }

        var options = connection.Options;
        var parameters = new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = options.ClientId,
            ["redirect_uri"] = ticket.CallbackUri.AbsoluteUri,
            ["scope"] = string.Join(' ', options.Scopes),
            ["state"] = ticket.State,
            ["nonce"] = ticket.Nonce,
            ["code_challenge"] = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(ticket.CodeVerifier))),
            ["code_challenge_method"] = "S256",
        };
        if (!string.IsNullOrEmpty(ticket.LoginHint))
        {
            parameters["login_hint"] = ticket.LoginHint;
        }

        if (ticket.ForceLogin)
        {
            parameters["prompt"] = "login";
        }

        return UpstreamRedirect.To(new Uri(QueryHelpers.AddQueryString(authorizationEndpoint!.AbsoluteUri, parameters)));
    }

    public async Task<UpstreamResult> CompleteAsync(Connection connection, UpstreamTicket ticket, IReadOnlyDictionary<string, string> response, CancellationToken cancellationToken)
    {
        if (response.TryGetValue("error", out var upstreamError))
        {
            response.TryGetValue("error_description", out var upstreamDescription);
            return Refused("upstream_error", $"The identity provider refused the sign-in ({Printable(upstreamError)}{(upstreamDescription is null ? "" : ": " + Printable(upstreamDescription))}).",
                OidcDiagnoses.AuthorizationError(connection.Options, ticket, upstreamError, upstreamDescription));
        }

        var configuration = await GetMetadataAsync(connection, cancellationToken);
        if (configuration.Error is not null)
        {
            return Failed(configuration);
        }

        var metadataDocument = configuration.Value!;

        // RFC 9207: when the IdP names itself in the response, it must be the issuer this connection trusts.
        if (response.TryGetValue("iss", out var responseIssuer) && !string.Equals(responseIssuer, metadataDocument.Issuer, StringComparison.Ordinal))
        {
            return Refused("issuer_mismatch", "The response names a different identity provider than the one this sign-in was sent to.",
                OidcDiagnoses.ResponseIssuer(metadataDocument.Issuer, responseIssuer));
        }

        if (!response.TryGetValue("code", out var code) || string.IsNullOrEmpty(code))
        {
            return Refused("missing_code", "The identity provider returned no authorization code.", OidcDiagnoses.NoCode(ticket));
        }

        var tokens = await RedeemCodeAsync(connection, metadataDocument, ticket, code, cancellationToken);
        if (tokens.Error is not null)
        {
            return Failed(tokens);
        }

        if (!tokens.Value!.RootElement.TryGetProperty("id_token", out var idTokenElement) || idTokenElement.ValueKind != JsonValueKind.String)
        {
            return Refused("missing_id_token", "The identity provider returned no ID token.", OidcDiagnoses.NoIdToken(connection.Options));
        }

        var idToken = idTokenElement.GetString()!;
        if (AlgorithmOf(idToken) is not { } algorithm || !connection.Options.AllowedAlgorithms.Contains(algorithm, StringComparer.Ordinal))
        {
            // Checked before any key is touched: 'none', HMAC and anything else off the allow-list never get near verification.
            return Refused("invalid_id_token", $"The identity provider's ID token was refused: its signature algorithm is not allowed for this connection ({Printable(AlgorithmOf(idToken) ?? "missing")}).",
                OidcDiagnoses.Algorithm(connection.Options, AlgorithmOf(idToken)));
        }

        var (validation, keys) = await ValidateIdTokenAsync(connection, metadataDocument, idToken, cancellationToken);
        if (!validation.IsValid)
        {
            var reason = Describe(validation.Exception);
            LogIdTokenRejected(validation.Exception, connection.Id, reason);
            return Refused("invalid_id_token", $"The identity provider's ID token was refused: {reason}.",
                OidcDiagnoses.IdToken(validation.Exception, idToken, keys, connection.Options, time.GetUtcNow()));
        }

        var token = (JsonWebToken)validation.SecurityToken;
        if (!token.TryGetPayloadValue<string>("nonce", out var nonce) || !FixedTimeEquals(nonce, ticket.Nonce))
        {
            return Refused("nonce_mismatch", "The ID token does not answer this sign-in (nonce mismatch).", OidcDiagnoses.Nonce());
        }

        var audiences = token.Audiences.ToList();
        if (audiences.Count > 1 && (!token.TryGetPayloadValue<string>("azp", out var azp) || azp != connection.Options.ClientId))
        {
            return Refused("invalid_id_token", "The ID token has several audiences but is not authorized for this client (azp).",
                OidcDiagnoses.AuthorizedParty(connection.Options, audiences, azp));
        }

        var subject = token.Subject;
        if (string.IsNullOrEmpty(subject) || subject.Length > 255)
        {
            return Refused("invalid_id_token", "The ID token has no usable subject.", OidcDiagnoses.Subject());
        }

        var claims = ReadClaims(token.Claims);
        if (tokens.Value.RootElement.TryGetProperty("access_token", out var accessToken) && accessToken.ValueKind == JsonValueKind.String
            && !string.IsNullOrEmpty(metadataDocument.UserInfoEndpoint))
        {
            var userInfo = await FetchUserInfoAsync(metadataDocument.UserInfoEndpoint, accessToken.GetString()!, subject, cancellationToken);
            if (userInfo.Error is not null)
            {
                return Failed(userInfo);
            }

            foreach (var (name, values) in userInfo.Value!)
            {
                claims.TryAdd(name, values);
            }
        }

        return UpstreamResult.Success(new UpstreamIdentity(connection.Organization.Id, connection.Id, subject, claims)
        {
            Email = First(claims, "email"),
            EmailVerified = string.Equals(First(claims, "email_verified"), "true", StringComparison.OrdinalIgnoreCase),
            Name = First(claims, "name"),
            GivenName = First(claims, "given_name"),
            FamilyName = First(claims, "family_name"),
            SessionExpiresAt = SessionExpiry(connection, claims),
            AuthenticatedAt = time.GetUtcNow(),
        });
    }

    /// <summary>
    /// The query of a redirect, or the form of the Form Post Response Mode; any other body is malformed, and so is a
    /// repeated parameter (RFC 6749 §3.1) or one beyond any real answer's size.
    /// </summary>
    public async Task<UpstreamAnswer> ReadAnswerAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>>? parameters =
            HttpMethods.IsGet(request.Method) ? request.Query
            : HttpMethods.IsPost(request.Method) && request.HasFormContentType ? await request.ReadFormAsync(cancellationToken)
            : null;
        var answer = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in parameters ?? [])
        {
            if (value.Count != 1 || key.Length > 100 || (value[0]?.Length ?? 0) > 16 * 1024)
            {
                parameters = null;
                break;
            }

            answer[key] = value[0] ?? "";
        }

        return parameters is null
            ? UpstreamAnswer.Malformed("invalid_request", "The answer from the identity provider is malformed.")
            : UpstreamAnswer.Of(answer);
    }

    private static UpstreamResult Failed<T>(Attempt<T> attempt) => Refused(attempt.Error!, attempt.Description!, attempt.Diagnosis);

    private static UpstreamResult Refused(string error, string description, UpstreamDiagnosis? diagnosis) =>
        UpstreamResult.Failure(error, description) with { Diagnosis = diagnosis };

    private static UpstreamRedirect CannotBegin(string error, string description, UpstreamDiagnosis? diagnosis) =>
        UpstreamRedirect.Failure(error, description) with { Diagnosis = diagnosis };

    /// <summary>Asks the IdP's authorization endpoint, without following it, whether it would show a sign-in page for this request.</summary>
    public async Task<UpstreamDiagnosis?> PreflightAsync(Connection connection, Uri request, UpstreamTicket ticket, CancellationToken cancellationToken)
    {
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Get, request);
            message.Headers.Accept.ParseAdd("text/html");
            using var response = await httpClients.CreateClient(OidcMetadataCache.HttpClientName).SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var status = (int)response.StatusCode;
            if (status is >= 300 and < 400)
            {
                return null; // on to a login page, or back to Tessera (which the real sign-in then reads)
            }

            var page = await ReadTextAsync(response, cancellationToken);
            return OidcDiagnoses.Preflight(connection.Options, ticket, status, page);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            return null; // the sign-in itself will say what is wrong, as it would for anyone
        }
    }

    private static async Task<string> ReadTextAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxResponseBytes];
        var filled = 0;
        int read;
        while (filled < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken)) > 0)
        {
            filled += read;
        }

        return Encoding.UTF8.GetString(buffer, 0, filled);
    }

    /// <summary>
    /// Verifies against the issuer's published keys. A <c>kid</c> the cached key set does not know asks the
    /// metadata cache for a refresh (at most one per refresh interval, shared by concurrent requests) and tries once more.
    /// Returns the metadata the last attempt used, so a refusal can name the keys it was checked against.
    /// </summary>
    private async Task<(TokenValidationResult Result, OpenIdConnectConfiguration Configuration)> ValidateIdTokenAsync(Connection connection, OpenIdConnectConfiguration configuration, string idToken, CancellationToken cancellationToken)
    {
        var result = await TokenHandler.ValidateTokenAsync(idToken, Parameters(connection, configuration));
        if (result.IsValid || result.Exception is not SecurityTokenSignatureKeyNotFoundException)
        {
            return (result, configuration);
        }

        var manager = metadata.For(connection.Options.Authority!);
        manager.RequestRefresh();
        var refreshed = await manager.GetConfigurationAsync(cancellationToken);
        return ReferenceEquals(refreshed, configuration) ? (result, configuration) : (await TokenHandler.ValidateTokenAsync(idToken, Parameters(connection, refreshed)), refreshed);
    }

    private TokenValidationParameters Parameters(Connection connection, OpenIdConnectConfiguration configuration) => new()
    {
        ValidIssuer = configuration.Issuer,
        ValidAudience = connection.Options.ClientId,
        ValidAlgorithms = connection.Options.AllowedAlgorithms,
        IssuerSigningKeys = configuration.SigningKeys,
        ClockSkew = connection.Options.ClockSkew,
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateLifetime = true,
        TryAllIssuerSigningKeys = true,
        LifetimeValidator = (notBefore, expires, _, p) => TokenLifetime.Holds(time.GetUtcNow(), notBefore, expires, p.ClockSkew),
    };

    private static string? AlgorithmOf(string token)
    {
        try
        {
            return new JsonWebToken(token).Alg;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private async Task<Attempt<JsonDocument>> RedeemCodeAsync(Connection connection, OpenIdConnectConfiguration configuration, UpstreamTicket ticket, string code, CancellationToken cancellationToken)
    {
        if (!IsAcceptableEndpoint(configuration.TokenEndpoint, out var tokenEndpoint))
        {
            return Attempt<JsonDocument>.Failure("upstream_metadata_invalid", "The identity provider publishes no usable token endpoint.",
                OidcDiagnoses.UnusableEndpoint(connection.Options, "token_endpoint", configuration.TokenEndpoint));
        }

        var options = connection.Options;
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = ticket.CallbackUri.AbsoluteUri,
            ["code_verifier"] = ticket.CodeVerifier,
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, tokenEndpoint);
        if (options.ClientAuthentication == "client_secret_post")
        {
            form["client_id"] = options.ClientId!;
            form["client_secret"] = options.ClientSecret!;
        }
        else
        {
            // RFC 6749 §2.3.1: both parts are form-encoded before they are joined and base64-encoded.
            var credentials = Uri.EscapeDataString(options.ClientId!) + ":" + Uri.EscapeDataString(options.ClientSecret!);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        }

        request.Content = new FormUrlEncodedContent(form);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        try
        {
            using var response = await httpClients.CreateClient(OidcMetadataCache.HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var document = await ReadJsonAsync(response, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                var upstreamError = ErrorMember(document, "error");
                var error = upstreamError ?? ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Attempt<JsonDocument>.Failure("token_request_failed", $"The identity provider refused to redeem the code ({Printable(error)}).",
                    OidcDiagnoses.TokenError(options, ticket, (int)response.StatusCode, upstreamError, ErrorMember(document, "error_description")));
            }

            return document is { RootElement.ValueKind: JsonValueKind.Object }
                ? Attempt<JsonDocument>.Success(document)
                : Attempt<JsonDocument>.Failure("token_request_failed", "The identity provider's token response is not JSON.");
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or JsonException)
        {
            LogUpstreamUnreachable(exception, connection.Id, "token");
            return Attempt<JsonDocument>.Failure("upstream_unavailable", Unreachable("The identity provider could not be reached to finish the sign-in", exception),
                OidcDiagnoses.Unreachable(UpstreamChecks.TokenRequest, "token endpoint", tokenEndpoint, exception));
        }
    }

    private async Task<Attempt<Dictionary<string, IReadOnlyList<string>>>> FetchUserInfoAsync(string endpoint, string accessToken, string subject, CancellationToken cancellationToken)
    {
        if (!IsAcceptableEndpoint(endpoint, out var uri))
        {
            return Attempt<Dictionary<string, IReadOnlyList<string>>>.Failure("upstream_metadata_invalid", "The identity provider publishes an unusable userinfo endpoint.",
                OidcDiagnoses.UserInfo(endpoint, otherSubject: false));
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        try
        {
            using var response = await httpClients.CreateClient(OidcMetadataCache.HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            using var document = await ReadJsonAsync(response, cancellationToken);
            if (!response.IsSuccessStatusCode || document is not { RootElement.ValueKind: JsonValueKind.Object })
            {
                return Attempt<Dictionary<string, IReadOnlyList<string>>>.Failure("userinfo_failed", "The identity provider's userinfo endpoint did not answer with the user's claims.",
                    OidcDiagnoses.UserInfo(endpoint, otherSubject: false));
            }

            var claims = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                claims[property.Name] = Values(property.Value);
            }

            // OpenID Connect Core §5.3.2: userinfo is about the same subject as the ID token, or it is ignored.
            if (!claims.TryGetValue("sub", out var sub) || sub.Count != 1 || sub[0] != subject)
            {
                return Attempt<Dictionary<string, IReadOnlyList<string>>>.Failure("userinfo_subject_mismatch", "The identity provider's userinfo answer is about a different user.",
                    OidcDiagnoses.UserInfo(endpoint, otherSubject: true));
            }

            return Attempt<Dictionary<string, IReadOnlyList<string>>>.Success(claims);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or JsonException)
        {
            LogUpstreamUnreachable(exception, uri!.Host, "userinfo");
            return Attempt<Dictionary<string, IReadOnlyList<string>>>.Failure("upstream_unavailable", Unreachable("The identity provider could not be reached for the user's claims", exception),
                OidcDiagnoses.Unreachable(UpstreamChecks.UserInfo, "userinfo endpoint", uri, exception));
        }
    }

    private async Task<Attempt<OpenIdConnectConfiguration>> GetMetadataAsync(Connection connection, CancellationToken cancellationToken)
    {
        try
        {
            var configuration = await metadata.For(connection.Options.Authority!).GetConfigurationAsync(cancellationToken);
            // OpenID Connect Discovery §4.3: the issuer in the document is exactly the one that was asked for.
            if (!string.Equals(configuration.Issuer?.TrimEnd('/'), connection.Options.Authority!.TrimEnd('/'), StringComparison.Ordinal))
            {
                return Attempt<OpenIdConnectConfiguration>.Failure("upstream_metadata_invalid", "The identity provider's discovery document names a different issuer.",
                    OidcDiagnoses.DiscoveryIssuer(connection.Options, configuration.Issuer));
            }

            return Attempt<OpenIdConnectConfiguration>.Success(configuration);
        }
        catch (Exception exception) when (exception is InvalidOperationException or HttpRequestException or IOException)
        {
            LogUpstreamUnreachable(exception, connection.Id, "discovery");
            return Attempt<OpenIdConnectConfiguration>.Failure("upstream_unavailable", Unreachable("The identity provider could not be reached", exception),
                OidcDiagnoses.DiscoveryUnreachable(connection.Options, exception));
        }
    }

    /// <summary>What the error page and the audit row say: a refused private address is named, other failures are not described.</summary>
    private static string Unreachable(string what, Exception exception) =>
        UpstreamAddressRefusedException.Caused(exception) ? $"{what}: {UpstreamAddressRefusedException.Reason}." : what + ".";

    private static async Task<JsonDocument?> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > MaxResponseBytes)
        {
            return null;
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxResponseBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        try
        {
            return JsonDocument.Parse(buffer.ToArray());
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A string member of an OAuth error response (RFC 6749 §5.2), if the body is one.</summary>
    private static string? ErrorMember(JsonDocument? document, string name) =>
        document?.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(name, out var value) ? value.ToString() : null;

    private static bool IsAcceptableEndpoint(string? value, out Uri? uri) =>
        Uri.TryCreate(value, UriKind.Absolute, out uri) && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback));

    private static Dictionary<string, IReadOnlyList<string>> ReadClaims(IEnumerable<Claim> claims)
    {
        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var group in claims.GroupBy(c => c.Type, StringComparer.Ordinal))
        {
            result[group.Key] = group.Select(c => c.Value).ToList();
        }

        return result;
    }

    private static IReadOnlyList<string> Values(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Array => element.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText()).ToList(),
        JsonValueKind.String => [element.GetString()!],
        JsonValueKind.True => ["true"],
        JsonValueKind.False => ["false"],
        _ => [element.GetRawText()],
    };

    private static string? First(IReadOnlyDictionary<string, IReadOnlyList<string>> claims, string name) =>
        claims.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;

    private static DateTimeOffset? SessionExpiry(Connection connection, IReadOnlyDictionary<string, IReadOnlyList<string>> claims) =>
        connection.Options.SessionExpiryClaim is { } claim && long.TryParse(First(claims, claim), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253402300799))
            : null;

    private static bool FixedTimeEquals(string? a, string b) =>
        a is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    /// <summary>Upstream text shown on our pages: printable ASCII, bounded.</summary>
    private static string Printable(string value)
    {
        var cleaned = new string(value.Where(c => c >= 0x20 && c < 0x7F).Take(200).ToArray());
        return cleaned.Length == 0 ? "unspecified" : cleaned;
    }

    private static string Describe(Exception? exception) => exception switch
    {
        SecurityTokenInvalidAlgorithmException => "its signature algorithm is not allowed for this connection",
        SecurityTokenSignatureKeyNotFoundException => "it is signed with a key the identity provider does not publish",
        SecurityTokenInvalidSignatureException => "its signature does not verify",
        SecurityTokenExpiredException => "it has expired",
        SecurityTokenNotYetValidException => "it is not valid yet",
        SecurityTokenInvalidLifetimeException => "its lifetime is not valid",
        SecurityTokenInvalidAudienceException => "it was issued for another client",
        SecurityTokenInvalidIssuerException => "it was issued by another issuer",
        SecurityTokenNoExpirationException => "it has no expiry",
        SecurityTokenMalformedException => "it is malformed",
        _ => "it could not be validated",
    };

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Upstream ID token from connection {ConnectionId} refused: {Reason}")]
    private partial void LogIdTokenRejected(Exception? exception, string connectionId, string reason);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Upstream {Source} for {Target} failed")]
    private partial void LogUpstreamUnreachable(Exception exception, string target, string source);
}

/// <summary>A value or the reason there is none.</summary>
internal sealed record Attempt<T>(T? Value, string? Error, string? Description)
{
    /// <summary>On a failure, what the connection's administrator needs to fix it.</summary>
    public UpstreamDiagnosis? Diagnosis { get; init; }

    public static Attempt<T> Success(T value) => new(value, null, null);

    public static Attempt<T> Failure(string error, string description, UpstreamDiagnosis? diagnosis = null) => new(default, error, description) { Diagnosis = diagnosis };
}
