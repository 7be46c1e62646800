using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;
using Tessera.Credentials;
using Tessera.Credentials.Dcql;
using Tessera.Credentials.SdJwt;
using Tessera.Hosting;

namespace Tessera.Pages.Demo;

/// <summary>An OpenID4VP request as the demo wallet read it, and the disclosures it would send in answer.</summary>
public sealed record WalletRequest(string ClientId, string RequestUri, string ResponseUri, string Nonce, string State, string QueryId, IReadOnlyList<DisclosedClaim> Selected);

/// <summary>
/// DEVELOPMENT ONLY. The demo wallet's side of OpenID4VP 1.0: fetch the request object by reference, let the DCQL
/// query choose the disclosures (nothing more), bind the presentation to the request's <c>client_id</c> and
/// <c>nonce</c>, and post it to the response URI (<c>direct_post</c>). It answers only requests whose response URI is
/// this Tessera's own, since it is a development wallet for this demo and nothing else.
/// </summary>
public sealed class DemoWalletPresenter(TesseraIssuer issuer, DemoWallet wallet, IHttpClientFactory httpClients)
{
    /// <summary>OpenID4VP 1.0 §5.9.3: the client identifier prefix under which the identifier is the response URI itself.</summary>
    private const string RedirectUriPrefix = "redirect_uri:";

    public async Task<(WalletRequest? Request, string? Error)> ReadAsync(string? clientId, string? requestUri, HeldCredential? held, CancellationToken cancellationToken)
    {
        if (held is null)
        {
            return (null, "The wallet holds no credential yet: get your age credential first, then ask the app again.");
        }

        if (string.IsNullOrEmpty(requestUri) || !requestUri.StartsWith(issuer.Url("/"), StringComparison.Ordinal))
        {
            return (null, "The demo wallet answers only requests from this Tessera.");
        }

        string text;
        try
        {
            using var response = await httpClients.CreateClient().GetAsync(requestUri, cancellationToken);
            text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return (null, "The verifier no longer has this request (answered or expired): ask the app again.");
            }
        }
        catch (Exception exception) when (exception is HttpRequestException || exception is TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (null, "The verifier could not be reached: " + exception.Message);
        }

        // The request object is unsigned under the redirect_uri prefix (§5.9.3); what binds it is that client_id is
        // the response URI, on this Tessera, and that it matches the client_id of the link.
        var parts = text.Split('.');
        JsonObject? payload = null;
        try
        {
            payload = parts.Length == 3 ? JsonNode.Parse(Base64UrlEncoder.Decode(parts[1])) as JsonObject : null;
        }
        catch (Exception exception) when (exception is System.Text.Json.JsonException or FormatException or ArgumentException)
        {
            payload = null;
        }

        var requestClientId = payload?["client_id"]?.GetValue<string>();
        var responseUri = payload?["response_uri"]?.GetValue<string>();
        if (payload is null || requestClientId is null || responseUri is null || requestClientId != clientId
            || requestClientId != RedirectUriPrefix + responseUri || !responseUri.StartsWith(issuer.Url("/"), StringComparison.Ordinal)
            || payload["response_mode"]?.GetValue<string>() != "direct_post" || payload["nonce"]?.GetValue<string>() is not { } nonce
            || payload["state"]?.GetValue<string>() is not { } state)
        {
            return (null, "The request object is not one this wallet can answer.");
        }

        var query = DcqlQuery.Parse(payload["dcql_query"]);
        if (!query.Succeeded || query.Value!.Credentials.Count != 1)
        {
            return (null, "The request asks for something other than one credential.");
        }

        var credentialQuery = query.Value.Credentials[0];
        var selected = DcqlEvaluator.SelectDisclosures(credentialQuery, held.Held);
        if (!selected.Succeeded)
        {
            return (null, "Your credential does not answer this request: " + selected.Failure!.Description);
        }

        var disclosed = held.Held.Disclosed.Where(d => selected.Value!.Contains(d.Disclosure)).ToList();
        return (new WalletRequest(requestClientId, requestUri, responseUri, nonce, state, credentialQuery.Id, disclosed), null);
    }

    /// <summary>OpenID4VP 1.0 §8.1, §8.2: <c>vp_token</c> keyed by the credential query id, posted with <c>state</c>.</summary>
    public async Task<(string? Redirect, string? Error)> AnswerAsync(HttpContext http, WalletRequest request, HeldCredential held, CancellationToken cancellationToken)
    {
        var presentation = wallet.Present(http, request.Selected.Select(d => d.Disclosure), held.Held, request.ClientId, request.Nonce);
        if (presentation is null)
        {
            return (null, "The wallet lost its key: get the credential again.");
        }

        var vpToken = new JsonObject { [request.QueryId] = new JsonArray(presentation) };
        HttpResponseMessage response;
        try
        {
            response = await httpClients.CreateClient().PostAsync(request.ResponseUri, new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["vp_token"] = vpToken.ToJsonString(),
                ["state"] = request.State,
            }), cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException || exception is TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (null, "The verifier could not be reached: " + exception.Message);
        }

        using var _ = response;
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        JsonNode? answer = null;
        try
        {
            answer = body.Length > 0 ? JsonNode.Parse(body) : null;
        }
        catch (System.Text.Json.JsonException)
        {
            answer = null;
        }

        if (!response.IsSuccessStatusCode)
        {
            return (null, "The verifier refused the presentation: " + (answer?["error_description"]?.GetValue<string>() ?? ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        // §8.2: the same-device flow goes on at the redirect_uri the verifier returns.
        var redirect = answer?["redirect_uri"]?.GetValue<string>();
        return (redirect is not null && redirect.StartsWith(issuer.Url("/"), StringComparison.Ordinal) ? redirect : null, null);
    }
}
