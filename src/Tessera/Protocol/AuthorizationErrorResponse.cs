using System.Net;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using OpenIddict.Abstractions;
using Tessera.Hosting;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Tessera.Protocol;

/// <summary>
/// RFC 6749 §4.1.2.1: an invalid authorization request is reported to the client at its redirect URI, unless
/// the client or the redirect URI itself is what is wrong; then nothing is redirected and the error is shown.
/// OpenIddict hands every validation error to our endpoint, so the decision is made here, against the
/// registration, with exact matching.
/// </summary>
public static class AuthorizationErrorResponse
{
    /// <summary>The registered redirect URI the error may go to, or null when it must be shown instead.</summary>
    public static string? SafeRedirectUri(OpenIddictRequest? request, ClientOptions? client, ParameterLimits limits)
    {
        if (request?.RedirectUri is not { } uri || client is null || !client.GrantTypes.Contains(GrantTypes.AuthorizationCode)
            || limits.Violation(request) is not null)
        {
            return null;
        }

        return client.RedirectUris.Contains(uri, StringComparer.Ordinal) ? uri : null;
    }

    public static IActionResult Redirect(string redirectUri, OpenIddictRequest request, string issuer, string error, string? description)
    {
        var parameters = new Dictionary<string, string?>
        {
            [Parameters.Error] = error,
            [Parameters.ErrorDescription] = description,
            [Parameters.State] = request.State,
            [Parameters.Iss] = issuer, // RFC 9207
        };
        var present = parameters.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value);

        switch (request.ResponseMode)
        {
            case ResponseModes.FormPost:
                var html = new StringBuilder("<!DOCTYPE html><html><head><title>Working...</title></head><body><form name=\"form\" method=\"post\" action=\"")
                    .Append(WebUtility.HtmlEncode(redirectUri)).Append("\">");
                foreach (var (name, value) in present)
                {
                    html.Append("<input type=\"hidden\" name=\"").Append(WebUtility.HtmlEncode(name)).Append("\" value=\"").Append(WebUtility.HtmlEncode(value)).Append("\" />");
                }

                html.Append("<noscript>Click here to continue: <input type=\"submit\" /></noscript></form><script>document.form.submit();</script></body></html>");
                return new ContentResult { Content = html.ToString(), ContentType = "text/html; charset=utf-8", StatusCode = 200 };
            case ResponseModes.Fragment:
                var fragment = string.Join('&', present.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value!)}"));
                return new RedirectResult(redirectUri + "#" + fragment);
            default:
                return new RedirectResult(QueryHelpers.AddQueryString(redirectUri, present));
        }
    }
}
