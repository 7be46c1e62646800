using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Tessera.Hosting;

namespace Tessera.Federation;

/// <summary>
/// What an administrator needs to fix an OpenID Connect connection, for each way <see cref="OidcConnector"/> refuses
/// an answer. Values come from Tessera's configuration and from what the IdP sent; never a secret, a code or a token.
/// </summary>
internal static class OidcDiagnoses
{
    /// <summary>An OAuth error at the callback (RFC 6749 §4.1.2.1).</summary>
    public static UpstreamDiagnosis AuthorizationError(ConnectionOptions options, UpstreamTicket ticket, string error, string? description)
    {
        var received = Reported(error, description);
        if (MentionsRedirectUri(error) || MentionsRedirectUri(description))
        {
            return RedirectUri(options, ticket, received);
        }

        var (summary, hint) = error switch
        {
            "access_denied" => ("The identity provider refused to sign the user in.",
                $"In your identity provider, assign the user (or a group they are in) to the application with client ID {options.ClientId}, and check the sign-in policies that apply to it."),
            "invalid_scope" => ($"The identity provider does not grant a scope Tessera asks for ({string.Join(' ', options.Scopes)}).",
                $"Allow these scopes for the application with client ID {options.ClientId} in your identity provider, or remove the ones it does not offer from the connection's Scopes in Tessera (openid is required)."),
            "unauthorized_client" => ("The identity provider does not let this client use the authorization code flow.",
                $"In your identity provider, enable the authorization code grant (with PKCE) for the application with client ID {options.ClientId}."),
            _ => ("The identity provider refused the sign-in request.",
                $"Its error says why. Check the application registered for Tessera in your identity provider: client ID {options.ClientId}, redirect URI {ticket.CallbackUri.AbsoluteUri}, authorization code flow with PKCE."),
        };
        return new UpstreamDiagnosis(UpstreamChecks.UpstreamError, summary, hint) { Received = received };
    }

    /// <summary>RFC 9207: the callback's <c>iss</c> names another issuer than the one the sign-in went to.</summary>
    public static UpstreamDiagnosis ResponseIssuer(string expected, string received) =>
        new(UpstreamChecks.Issuer, "The identity provider's answer names a different issuer than the one this sign-in was sent to.",
            $"Check that the connection's Authority in Tessera is this identity provider's issuer ({expected}), and that the answer comes from the same identity provider (tenant) it was sent to.")
        {
            Expected = expected,
            Received = DiagnosisText.Printable(received),
        };

    public static UpstreamDiagnosis DiscoveryIssuer(ConnectionOptions options, string? discovered) =>
        new(UpstreamChecks.Issuer, "The identity provider's discovery document names a different issuer than the connection's Authority.",
            $"Set the connection's Authority in Tessera to exactly the issuer your identity provider publishes ({DiagnosisText.Printable(discovered) ?? "none"}), "
            + $"or correct the issuer in the document at {DiscoveryUrl(options)}.")
        {
            Expected = options.Authority,
            Received = DiagnosisText.Printable(discovered),
        };

    public static UpstreamDiagnosis DiscoveryUnreachable(ConnectionOptions options, Exception exception) =>
        new(UpstreamChecks.Metadata, "Tessera could not read the identity provider's discovery document or its signing keys.",
            $"Check that the connection's Authority ({options.Authority}) is your identity provider's issuer URL, and that {DiscoveryUrl(options)} "
            + "and the jwks_uri it names answer from where Tessera runs.")
        {
            Expected = DiscoveryUrl(options),
            Received = Reason(exception),
        };

    public static UpstreamDiagnosis UnusableEndpoint(ConnectionOptions options, string endpoint, string? value) =>
        new(UpstreamChecks.Metadata, $"The identity provider's discovery document names no usable {endpoint}.",
            $"The {endpoint} in {DiscoveryUrl(options)} must be an https URL. Check the connection's Authority and the identity provider's discovery document.")
        {
            Received = DiagnosisText.Printable(value),
        };

    public static UpstreamDiagnosis NoCode(UpstreamTicket ticket) =>
        new(UpstreamChecks.Format, "The identity provider came back without an authorization code or an error.",
            $"Configure the application for the authorization code flow (response type code) with the redirect URI {ticket.CallbackUri.AbsoluteUri}, answering in the query string.");

    /// <summary>The token endpoint refused to redeem the code (RFC 6749 §5.2).</summary>
    public static UpstreamDiagnosis TokenError(ConnectionOptions options, UpstreamTicket ticket, int status, string? error, string? description)
    {
        var received = Reported(error ?? status.ToString(System.Globalization.CultureInfo.InvariantCulture), description);
        if (error == "invalid_client" || (error is null && status == 401))
        {
            return new UpstreamDiagnosis(UpstreamChecks.ClientAuthentication,
                $"The identity provider's token endpoint did not accept Tessera's credentials for client {options.ClientId}.",
                $"Copy the current client secret of the application with client ID {options.ClientId} from your identity provider into the connection's ClientSecret in Tessera "
                + $"(secrets expire and are rotated), and check that the application accepts {options.ClientAuthentication} (the connection's ClientAuthentication: client_secret_basic or client_secret_post).")
            {
                Received = received,
            };
        }

        if (MentionsRedirectUri(error) || MentionsRedirectUri(description))
        {
            return RedirectUri(options, ticket, received);
        }

        return error == "unauthorized_client"
            ? new UpstreamDiagnosis(UpstreamChecks.TokenRequest, "The identity provider does not let this client redeem authorization codes.",
                $"In your identity provider, enable the authorization code grant for the application with client ID {options.ClientId}.")
            {
                Received = received,
            }
            : new UpstreamDiagnosis(UpstreamChecks.TokenRequest, "The identity provider's token endpoint refused to redeem the authorization code.",
                $"Its error says why. Check that the application with client ID {options.ClientId} allows the authorization code grant with PKCE (S256) and the redirect URI {ticket.CallbackUri.AbsoluteUri}.")
            {
                Received = received,
            };
    }

    public static UpstreamDiagnosis Unreachable(string check, string endpoint, Uri? uri, Exception exception) =>
        new(check, $"Tessera could not reach the identity provider's {endpoint}.",
            $"Check that {uri?.AbsoluteUri ?? "the " + endpoint} answers from where Tessera runs (DNS, firewall, TLS certificate).")
        {
            Expected = uri?.AbsoluteUri,
            Received = Reason(exception),
        };

    public static UpstreamDiagnosis NoIdToken(ConnectionOptions options) =>
        new(UpstreamChecks.TokenRequest, "The identity provider's token response carries no ID token.",
            $"Register the application with client ID {options.ClientId} as an OpenID Connect application (not plain OAuth), and keep openid in the connection's Scopes.");

    public static UpstreamDiagnosis Algorithm(ConnectionOptions options, string? algorithm) =>
        new(UpstreamChecks.SignatureAlgorithm, "The identity provider signs its ID tokens with an algorithm this connection does not accept.",
            $"In your identity provider, sign the ID tokens of the application with client ID {options.ClientId} with {string.Join(" or ", options.AllowedAlgorithms)}; "
            + "or, if it is an asymmetric algorithm you trust, add it to the connection's AllowedAlgorithms in Tessera.")
        {
            Expected = string.Join(", ", options.AllowedAlgorithms),
            Received = DiagnosisText.Printable(algorithm),
        };

    /// <summary>
    /// An ID token IdentityModel refused. The values reported are read from the refused token only to describe it;
    /// nothing read here is trusted.
    /// </summary>
    public static UpstreamDiagnosis IdToken(Exception? exception, string idToken, OpenIdConnectConfiguration configuration, ConnectionOptions options, DateTimeOffset now)
    {
        var token = Read(idToken);
        switch (exception)
        {
            case SecurityTokenInvalidAudienceException audience:
                return new UpstreamDiagnosis(UpstreamChecks.Audience, "The ID token was issued for another client (its audience is not this connection's client ID).",
                    $"The ID token's audience must be {options.ClientId}, the connection's ClientId. Set ClientId in Tessera to the client ID of the application "
                    + "registered for Tessera in your identity provider, and make sure the identity provider does not give that application's ID tokens another audience.")
                {
                    Expected = options.ClientId,
                    Received = DiagnosisText.Printable(audience.InvalidAudience) ?? DiagnosisText.Printable(token?.Audiences ?? []),
                };
            case SecurityTokenInvalidIssuerException issuer:
                return new UpstreamDiagnosis(UpstreamChecks.Issuer, "The ID token was issued by a different issuer than the identity provider's discovery document names.",
                    $"Configure your identity provider to issue this application's ID tokens as {configuration.Issuer} (the issuer it publishes), "
                    + "or set the connection's Authority in Tessera to the issuer that signs them.")
                {
                    Expected = configuration.Issuer,
                    Received = DiagnosisText.Printable(issuer.InvalidIssuer ?? token?.Issuer),
                };
            case SecurityTokenSignatureKeyNotFoundException:
                return new UpstreamDiagnosis(UpstreamChecks.SigningKey, "The ID token is signed with a key the identity provider does not publish.",
                    $"Your identity provider signed with key {DiagnosisText.Printable(token?.Kid) ?? "(no kid)"}, which is not among the keys at {configuration.JwksUri}. "
                    + "If the application has a signing key of its own, have it sign with the keys the issuer publishes, or publish its key in the issuer's JWKS.")
                {
                    Expected = PublishedKeyIds(configuration),
                    Received = DiagnosisText.Printable(token?.Kid),
                };
            case SecurityTokenInvalidSignatureException:
                return new UpstreamDiagnosis(UpstreamChecks.SigningKey, "The ID token's signature does not verify with the keys the identity provider publishes.",
                    $"Check that the key the identity provider signs with is the one published at {configuration.JwksUri} under the same kid, and that nothing between the identity provider and Tessera alters the token.")
                {
                    Expected = PublishedKeyIds(configuration),
                    Received = DiagnosisText.Printable(token?.Kid),
                };
            case SecurityTokenInvalidAlgorithmException:
                return Algorithm(options, token?.Alg);
            case SecurityTokenExpiredException or SecurityTokenNotYetValidException:
                return Lifetime(exception, token, options.ClockSkew, now);
            case SecurityTokenNoExpirationException:
                return new UpstreamDiagnosis(UpstreamChecks.TokenLifetime, "The ID token has no expiry (exp).",
                    "OpenID Connect requires exp in every ID token: configure your identity provider's application to issue standard ID tokens.");
            default:
                return new UpstreamDiagnosis(UpstreamChecks.Format, "The ID token could not be read or validated.",
                    "Configure your identity provider's application to issue standard signed ID tokens (a JWS in compact form).");
        }
    }

    public static UpstreamDiagnosis Nonce() =>
        new(UpstreamChecks.Nonce, "The ID token does not carry the nonce this sign-in sent.",
            "Start the test again from Tessera, in one browser tab. If it still fails, check that your identity provider copies the nonce of the authorization request into the ID token.");

    public static UpstreamDiagnosis AuthorizedParty(ConnectionOptions options, IEnumerable<string> audiences, string? azp) =>
        new(UpstreamChecks.Audience, "The ID token names several audiences but does not say it was issued to this client (azp).",
            $"Configure your identity provider to issue this application's ID tokens for client ID {options.ClientId} alone, or with azp set to it.")
        {
            Expected = options.ClientId,
            Received = DiagnosisText.Printable(audiences.Append(azp is null ? "" : "azp " + azp)),
        };

    public static UpstreamDiagnosis Subject() =>
        new(UpstreamChecks.Subject, "The ID token names no usable subject (sub, at most 255 characters).",
            "Configure your identity provider to put a stable identifier of the user in sub.");

    public static UpstreamDiagnosis UserInfo(string? endpoint, bool otherSubject) => otherSubject
        ? new(UpstreamChecks.UserInfo, "The identity provider's userinfo endpoint answered about a different user than the ID token.",
            "The sub from the userinfo endpoint must equal the ID token's sub (OpenID Connect Core §5.3.2); check the identity provider's userinfo configuration.")
        {
            Expected = DiagnosisText.Printable(endpoint),
        }
        : new(UpstreamChecks.UserInfo, "The identity provider's userinfo endpoint did not answer with the user's claims.",
            $"Check that {DiagnosisText.Printable(endpoint) ?? "the userinfo endpoint"} answers a GET with the access token from this sign-in with a JSON object of claims.")
        {
            Expected = DiagnosisText.Printable(endpoint),
        };

    /// <summary>
    /// The IdP answered the authorization request itself with an error page (it shows one instead of redirecting when it
    /// does not trust the redirect URI or does not know the client, RFC 6749 §4.1.2.1).
    /// </summary>
    public static UpstreamDiagnosis? Preflight(ConnectionOptions options, UpstreamTicket ticket, int status, string page)
    {
        var received = DiagnosisText.Printable($"HTTP {status}");
        // Entra ID answers 200 with its error page; its code for a reply URL it does not know is AADSTS50011.
        if (page.Contains("AADSTS50011", StringComparison.Ordinal) || page.Contains("redirect_uri_mismatch", StringComparison.OrdinalIgnoreCase)
            || page.Contains("invalid_redirect_uri", StringComparison.OrdinalIgnoreCase) || (status >= 400 && MentionsRedirectUri(page)))
        {
            return RedirectUri(options, ticket, received);
        }

        if (status < 400)
        {
            return null; // a sign-in page (which may well mention redirect_uri in its own forms)
        }

        return page.Contains("client", StringComparison.OrdinalIgnoreCase)
            ? new UpstreamDiagnosis(UpstreamChecks.UpstreamError, "The identity provider does not accept the client ID.",
                $"Copy the client ID of the application registered for Tessera in your identity provider into the connection ({options.ClientId} is what Tessera sends).")
            {
                Expected = options.ClientId,
                Received = received,
            }
            : new UpstreamDiagnosis(UpstreamChecks.UpstreamError, "The identity provider refused the sign-in request with an error page.",
                $"Open your identity provider's logs for the application with client ID {options.ClientId}; check its redirect URI ({ticket.CallbackUri.AbsoluteUri}) and that the authorization code flow is enabled.")
            {
                Received = received,
            };
    }

    private static UpstreamDiagnosis RedirectUri(ConnectionOptions options, UpstreamTicket ticket, string? received) =>
        new(UpstreamChecks.RedirectUri, "The identity provider does not accept Tessera's redirect URI for this application.",
            $"In your identity provider, add {ticket.CallbackUri.AbsoluteUri} exactly as written (scheme, host, path, no trailing slash) to the redirect URIs "
            + $"(sign-in redirect URIs, reply URLs) of the application with client ID {options.ClientId}.")
        {
            Expected = ticket.CallbackUri.AbsoluteUri,
            Received = received,
        };

    private static UpstreamDiagnosis Lifetime(Exception exception, JsonWebToken? token, TimeSpan skew, DateTimeOffset now)
    {
        var notYetValid = exception is SecurityTokenNotYetValidException;
        var bound = notYetValid
            ? (exception as SecurityTokenNotYetValidException)?.NotBefore is { } nbf && nbf != DateTime.MinValue ? nbf : token?.ValidFrom
            : (exception as SecurityTokenExpiredException)?.Expires is { } exp && exp != DateTime.MinValue ? exp : token?.ValidTo;
        return ClockDiagnosis.For("ID token", notYetValid, Offset(token, now), skew, DiagnosisText.Time(now),
            bound is { } b && b != DateTime.MinValue ? DiagnosisText.Time(new DateTimeOffset(DateTime.SpecifyKind(b, DateTimeKind.Utc))) : null);
    }

    /// <summary>The IdP's clock minus ours: when it says it issued the token (iat), else when it says the token starts (nbf).</summary>
    private static TimeSpan? Offset(JsonWebToken? token, DateTimeOffset now)
    {
        var stamp = token is null ? DateTime.MinValue : token.IssuedAt != DateTime.MinValue ? token.IssuedAt : token.ValidFrom;
        return stamp == DateTime.MinValue ? null : new DateTimeOffset(DateTime.SpecifyKind(stamp, DateTimeKind.Utc)) - now;
    }

    private static JsonWebToken? Read(string idToken)
    {
        try
        {
            return new JsonWebToken(idToken);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static string? PublishedKeyIds(OpenIdConnectConfiguration configuration) =>
        DiagnosisText.Printable(configuration.SigningKeys.Select(k => k.KeyId ?? "(no kid)"));

    private static string? Reported(string error, string? description) =>
        DiagnosisText.Printable(string.IsNullOrWhiteSpace(description) ? error : $"{error}: {description}");

    /// <summary>IdPs word it differently: redirect_uri, redirect URI, reply URL (Entra), redirect_uri_mismatch (Google).</summary>
    private static bool MentionsRedirectUri(string? text) =>
        text is not null && new[] { "redirect_uri", "redirect uri", "redirect url", "redirect_url", "reply url", "reply address" }
            .Any(phrase => text.Contains(phrase, StringComparison.OrdinalIgnoreCase));

    /// <summary>The innermost cause of a failed request, when it is a plain network reason rather than a library's message.</summary>
    private static string? Reason(Exception exception)
    {
        var inner = exception;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return inner is HttpRequestException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException or TaskCanceledException
            ? DiagnosisText.Printable(inner.Message)
            : null;
    }

    private static string DiscoveryUrl(ConnectionOptions options) => options.Authority?.TrimEnd('/') + "/.well-known/openid-configuration";
}
