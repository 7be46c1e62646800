using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Tessera.Audit;
using Tessera.Protocol;

namespace Tessera.Hosting;

/// <summary>
/// Reads every form before anything else does, within the limit of the endpoint it is sent to (<c>RequestLimits</c>),
/// so that no endpoint meets a form it cannot hold. A body over its limit answers 413, a multipart body 415, a form
/// with too many or too long field names 400: each with its protocol's error (OAuth error JSON at the back-channel
/// endpoints, the error page for browser endpoints) and one audit row, and nothing else happens. A form that fits
/// is handed on already parsed.
/// </summary>
public sealed class BoundedForms(RequestDelegate next, RequestLimitOptions limits, AuditLog audit)
{
    /// <summary>Where a refused browser request is shown (re-executed as a GET, as the exception handler does).</summary>
    public const string RefusedPage = "/error/refused";

    private const int MaxKeyLength = 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var endpoint = FormEndpoint.Of(request.Path, limits);
        if (endpoint is null || !request.HasFormContentType)
        {
            await next(context);
            return;
        }

        if (request.ContentType!.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
        {
            await RefuseAsync(context, endpoint, StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type",
                "Forms are accepted as application/x-www-form-urlencoded only.");
            return;
        }

        var body = await BoundedRequestBody.ReadAsync(request, endpoint.Limit);
        if (body is null)
        {
            await RefuseAsync(context, endpoint, StatusCodes.Status413PayloadTooLarge, "body_too_large",
                $"The request body is larger than {endpoint.Limit} bytes, the most this endpoint reads.");
            return;
        }

        Dictionary<string, Microsoft.Extensions.Primitives.StringValues> fields;
        try
        {
            // RFC 6749 Appendix B: form bodies are UTF-8; bytes that are not become U+FFFD, never an exception.
            fields = UrlEncodedForm.Parse(body, limits.MaxParameters, MaxKeyLength, endpoint.Limit);
        }
        catch (InvalidDataException)
        {
            await RefuseAsync(context, endpoint, StatusCodes.Status400BadRequest, "form_limits",
                $"The form has more than {limits.MaxParameters} fields or a field name longer than {MaxKeyLength} characters.");
            return;
        }

        context.Features.Set<IFormFeature>(new FormFeature(new FormCollection(fields)));
        request.Body = new MemoryStream(body, writable: false);
        await next(context);
    }

    private async Task RefuseAsync(HttpContext context, FormEndpoint endpoint, int status, string rule, string description)
    {
        audit.Record(new AuditEvent(AuditEvents.RequestRefused, AuditEvent.Failure)
        {
            IpAddress = context.Connection.RemoteIpAddress?.ToString(),
            UserAgent = Bounded(context.Request.Headers.UserAgent.ToString()),
            Reason = $"{rule}: {description}",
            Detail = new Dictionary<string, string?>
            {
                ["endpoint"] = endpoint.Name,
                ["limit"] = endpoint.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["content_length"] = context.Request.ContentLength?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
        });

        if (endpoint.OAuth)
        {
            var response = context.Response;
            response.StatusCode = status;
            response.Headers.CacheControl = "no-store";
            response.Headers.Pragma = "no-cache";
            if (endpoint.Name == FormEndpoint.UserInfo)
            {
                response.Headers.WWWAuthenticate = "Bearer error=\"invalid_request\""; // RFC 6750 §3
            }

            await response.WriteAsJsonAsync(new Dictionary<string, string> { ["error"] = "invalid_request", ["error_description"] = description },
                JsonSerializerOptions.Web, "application/json;charset=UTF-8", context.RequestAborted);
            return;
        }

        // The page is rendered by the rest of the pipeline, as for any GET, with the refusal and its status.
        context.Features.Set(new RequestRefusal(status, description));
        context.Features.Set<IFormFeature>(new FormFeature(FormCollection.Empty));
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = RefusedPage;
        context.Request.QueryString = QueryString.Empty;
        context.Request.ContentType = null;
        context.Request.Body = Stream.Null;
        context.Response.StatusCode = status;
        await next(context);
    }

    private static string? Bounded(string value) => value.Length > 200 ? value[..200] : value;
}

/// <summary>Why a browser request was refused before its endpoint saw it: what the refused-request page shows.</summary>
public sealed record RequestRefusal(int Status, string Description);

/// <summary>The endpoint a form is sent to: its name in audit rows, its body limit, and whether it answers in OAuth error JSON.</summary>
public sealed record FormEndpoint(string Name, int Limit, bool OAuth)
{
    public const string UserInfo = "userinfo";

    /// <summary>The endpoint of <paramref name="path"/>, or null when the endpoint reads its own body within its own limit (SCIM, signal polling, the Admin API).</summary>
    public static FormEndpoint? Of(PathString path, RequestLimitOptions limits)
    {
        var value = (path.Value ?? "").AsSpan().TrimEnd('/');
        var bodies = limits.MaxBodyBytes;
        if (value.StartsWith("/scim/", StringComparison.OrdinalIgnoreCase) || value.StartsWith("/signals/poll/", StringComparison.OrdinalIgnoreCase)
            || value.StartsWith("/admin/", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (value.StartsWith("/portal/", StringComparison.OrdinalIgnoreCase))
        {
            return new("portal", bodies.Portal, OAuth: false);
        }

        // /saml/{connectionId}/acs
        if (value.StartsWith("/saml/", StringComparison.OrdinalIgnoreCase) && value.EndsWith("/acs", StringComparison.OrdinalIgnoreCase)
            && value.Length > "/saml//acs".Length && value["/saml/".Length..^"/acs".Length].IndexOf('/') < 0)
        {
            return new("saml_acs", bodies.SamlAcs, OAuth: false);
        }

        // OpenID4VCI's token endpoint and the OpenID4VP response endpoint answer in OAuth error JSON too.
        if (value.StartsWith("/credentials/", StringComparison.OrdinalIgnoreCase) || value.StartsWith("/presentations/", StringComparison.OrdinalIgnoreCase))
        {
            return new("credentials", bodies.Token, OAuth: true);
        }

        var name = value.TrimStart('/');
        return Is(name, ProtocolEndpoints.Token) ? new("token", bodies.Token, OAuth: true)
            : Is(name, ProtocolEndpoints.Introspection) ? new("introspection", bodies.Introspection, OAuth: true)
            : Is(name, ProtocolEndpoints.Revocation) ? new("revocation", bodies.Revocation, OAuth: true)
            : Is(name, ProtocolEndpoints.UserInfo) ? new(UserInfo, bodies.UserInfo, OAuth: true)
            : Is(name, ProtocolEndpoints.Authorization) ? new("authorization", bodies.Authorization, OAuth: false)
            : Is(name, ProtocolEndpoints.EndSession) ? new("end_session", bodies.EndSession, OAuth: false)
            : new("page", bodies.Pages, OAuth: false);
    }

    private static bool Is(ReadOnlySpan<char> path, string endpoint) => path.Equals(endpoint, StringComparison.OrdinalIgnoreCase);
}
