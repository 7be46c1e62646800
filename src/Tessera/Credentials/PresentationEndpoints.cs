using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;

namespace Tessera.Credentials;

/// <summary>
/// The OpenID4VP 1.0 verifier: an app creates a request for a configured presentation, the wallet fetches the request
/// object and posts its answer (<c>direct_post</c>), the app redeems the result. Every refusal is OAuth-shaped JSON;
/// nothing a request sends reaches a 5xx.
/// </summary>
public static class PresentationEndpoints
{
    public const string RequestsPath = "/presentations/requests";
    public const string ResponsePath = "/presentations/response";
    public const string ResultPath = "/presentations/result";
    public const string NoncePath = "/presentations/nonce";

    /// <summary>A wallet's answer holds a few SD-JWTs; more than this is not one (the request limits refuse it first, with 413).</summary>
    public const int MaxResponseBytes = 64 * 1024;

    public static void MapPresentationVerifier(this IEndpointRouteBuilder app)
    {
        app.MapPost(RequestsPath, Task<IResult> (HttpContext http) => AsClientAsync(http, CreateAsync));
        app.MapGet(RequestsPath + "/{id}", RequestObjectAsync);
        app.MapPost(ResponsePath, (Delegate)RespondAsync);
        app.MapPost(ResultPath, Task<IResult> (HttpContext http) => AsClientAsync(http, RedeemAsync));
        app.MapPost(NoncePath, Task<IResult> (HttpContext http) => AsClientAsync(http, NonceAsync));
    }

    private static async Task<IResult> CreateAsync(HttpContext http, IFormCollection form, Hosting.ClientOptions client)
    {
        var (created, error) = await http.RequestServices.GetRequiredService<PresentationRequests>()
            .CreateAsync(client, form["presentation"].FirstOrDefault(), form["redirect_uri"].FirstOrDefault(), http.RequestAborted);
        if (created is null)
        {
            return Error(http, error!);
        }

        http.Response.Headers.CacheControl = "no-store";
        return Results.Json(new JsonObject
        {
            ["request_id"] = created.Id,
            ["request_uri"] = created.RequestUri,
            ["wallet_link"] = created.WalletLink,
            ["expires_at"] = created.ExpiresAt.ToUnixTimeSeconds(),
            ["expires_in"] = (int)(created.ExpiresAt - http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow()).TotalSeconds,
        }, statusCode: 201);
    }

    /// <summary>OpenID4VP 1.0 §5.7, RFC 9101 §5.2: the request object by reference.</summary>
    private static async Task<IResult> RequestObjectAsync(HttpContext http, string id)
    {
        var requestObject = await http.RequestServices.GetRequiredService<PresentationRequests>().RequestObjectAsync(id, http.RequestAborted);
        if (requestObject is null)
        {
            return CredentialEndpoints.OAuthError(http, 404, "invalid_request_uri", "the request is unknown, answered or expired");
        }

        http.Response.Headers.CacheControl = "no-store";
        return Results.Text(requestObject, "application/oauth-authz-req+jwt");
    }

    /// <summary>OpenID4VP 1.0 §8.2: the wallet's <c>direct_post</c> of <c>vp_token</c> and <c>state</c>.</summary>
    private static async Task<IResult> RespondAsync(HttpContext http)
    {
        var form = await ReadFormAsync(http, MaxResponseBytes);
        if (form is null)
        {
            return CredentialEndpoints.OAuthError(http, 400, "invalid_request", "post the response as application/x-www-form-urlencoded, each parameter once");
        }

        if (form.ContainsKey("response"))
        {
            return CredentialEndpoints.OAuthError(http, 400, "invalid_request", "encrypted responses (direct_post.jwt) are not accepted; post vp_token and state");
        }

        var (redirect, error) = await http.RequestServices.GetRequiredService<PresentationRequests>()
            .RespondAsync(form["state"].FirstOrDefault(), form["vp_token"].FirstOrDefault(), form["error"].FirstOrDefault(), http.RequestAborted);
        if (error is not null)
        {
            return Error(http, error);
        }

        http.Response.Headers.CacheControl = "no-store";
        return Results.Json(redirect is null ? new JsonObject() : new JsonObject { ["redirect_uri"] = redirect });
    }

    private static async Task<IResult> RedeemAsync(HttpContext http, IFormCollection form, Hosting.ClientOptions client)
    {
        var (result, error) = await http.RequestServices.GetRequiredService<PresentationRequests>()
            .RedeemAsync(client, form["request_id"].FirstOrDefault(), form["response_code"].FirstOrDefault(), http.RequestAborted);
        if (result is null)
        {
            return Error(http, error!);
        }

        http.Response.Headers.CacheControl = "no-store";
        return Results.Json(new JsonObject
        {
            ["token"] = result.Token,
            ["token_type"] = PresentationResultToken.Type,
            ["expires_in"] = (int)PresentationResultToken.Lifetime.TotalSeconds,
            ["sub"] = result.Subject,
            ["claims"] = result.Claims.DeepClone(),
        });
    }

    /// <summary>
    /// A nonce for a presentation the app will exchange at the token endpoint (RFC 8693, subject token type
    /// <see cref="PresentationExchange.TokenType"/>): the app hands the wallet the nonce, its own client_id as the
    /// audience, and the DCQL query.
    /// </summary>
    private static async Task<IResult> NonceAsync(HttpContext http, IFormCollection form, Hosting.ClientOptions client)
    {
        var exchangeable = http.RequestServices.GetRequiredService<Exchange.ExchangeDirectory>().PresentationsOf(client.ClientId);
        var (nonce, error) = await http.RequestServices.GetRequiredService<PresentationExchange>()
            .NonceAsync(client, form["presentation"].FirstOrDefault(), exchangeable, http.RequestAborted);
        if (nonce is null)
        {
            return Error(http, error!);
        }

        http.Response.Headers.CacheControl = "no-store";
        return Results.Json(new JsonObject
        {
            ["nonce"] = nonce.Nonce,
            ["aud"] = nonce.Audience,
            ["expires_in"] = (int)(nonce.ExpiresAt - http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow()).TotalSeconds,
            ["dcql_query"] = nonce.Presentation.QueryJson.DeepClone(),
            ["subject_token_type"] = PresentationExchange.TokenType,
        });
    }

    /// <summary>Reads the app's form, authenticates the app (RFC 6749 §2.3.1) and hands both to <paramref name="handle"/>.</summary>
    private static async Task<IResult> AsClientAsync(HttpContext http, Func<HttpContext, IFormCollection, Hosting.ClientOptions, Task<IResult>> handle)
    {
        var form = await ReadFormAsync(http, CredentialEndpoints.MaxRequestBytes);
        if (form is null)
        {
            return CredentialEndpoints.OAuthError(http, 400, "invalid_request", "send the request as application/x-www-form-urlencoded, each parameter once");
        }

        var authenticated = await http.RequestServices.GetRequiredService<VerifierClientAuthentication>().AuthenticateAsync(http, form);
        if (authenticated.Client is null)
        {
            // RFC 6749 §5.2
            http.Response.Headers.WWWAuthenticate = "Basic";
            if (authenticated.RetryAfter is { } retryAfter)
            {
                http.Response.Headers.RetryAfter = ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return CredentialEndpoints.OAuthError(http, 401, "invalid_client", authenticated.Refusal!);
        }

        return await handle(http, form, authenticated.Client);
    }

    private static async Task<IFormCollection?> ReadFormAsync(HttpContext http, int maxBytes)
    {
        if (!http.Request.HasFormContentType || http.Request.ContentLength is { } length && length > maxBytes)
        {
            return null;
        }

        try
        {
            var form = await http.Request.ReadFormAsync(new FormOptions { ValueLengthLimit = maxBytes, MultipartBodyLengthLimit = maxBytes, ValueCountLimit = 32 }, http.RequestAborted);
            return form.Any(f => f.Value.Count > 1) ? null : form;
        }
        catch (Exception exception) when (exception is InvalidDataException or IOException or BadHttpRequestException)
        {
            return null;
        }
    }

    private static IResult Error(HttpContext http, VerifierError error) => CredentialEndpoints.OAuthError(http, error.Status, error.Error, error.Description);
}
