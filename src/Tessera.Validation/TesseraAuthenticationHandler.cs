using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Tessera.Validation;

/// <summary>The scheme's options; everything that matters is in <see cref="TesseraValidationOptions"/>.</summary>
public sealed class TesseraAuthenticationSchemeOptions : AuthenticationSchemeOptions;

/// <summary>
/// The "Tessera" authentication scheme: reads <c>Authorization: Bearer</c> (RFC 6750 §2.1), validates the token with
/// <see cref="TesseraTokenValidator"/>, and answers failures with <c>WWW-Authenticate: Bearer error="invalid_token"</c>
/// (RFC 6750 §3.1). Each request gets its own copy of the cached principal.
/// </summary>
internal sealed class TesseraAuthenticationHandler(IOptionsMonitor<TesseraAuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    TesseraTokenValidator validator) : AuthenticationHandler<TesseraAuthenticationSchemeOptions>(options, logger, encoder)
{
    private const string BearerPrefix = "Bearer ";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? authorization = Request.Headers.Authorization;
        if (authorization is null || !authorization.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var token = authorization[BearerPrefix.Length..].Trim();
        if (token.Length == 0)
        {
            return AuthenticateResult.Fail("The bearer token is empty.");
        }

        var result = await validator.ValidateAsync(token, Context.RequestAborted);
        return result.IsValid
            ? AuthenticateResult.Success(new AuthenticationTicket(result.Principal!.Clone(), Scheme.Name))
            : AuthenticateResult.Fail(result.Description!);
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var outcome = await HandleAuthenticateOnceSafeAsync();
        Response.StatusCode = StatusCodes.Status401Unauthorized;

        // RFC 6750 §3.1: no error code when the request carried no token at all.
        Response.Headers.Append(HeaderNames.WWWAuthenticate, outcome.Failure is { } failure
            ? $"Bearer error=\"invalid_token\", error_description=\"{Quoted(failure.Message)}\""
            : "Bearer");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        // RFC 6750 §3.1: the token is good but does not carry what the resource requires.
        Response.StatusCode = StatusCodes.Status403Forbidden;
        Response.Headers.Append(HeaderNames.WWWAuthenticate, "Bearer error=\"insufficient_scope\"");
        return Task.CompletedTask;
    }

    /// <summary>RFC 6750 §3: error_description is a quoted-string limited to printable ASCII without '"' and '\'.</summary>
    private static string Quoted(string description) =>
        new(description.Where(c => c is >= ' ' and <= '~' and not '"' and not '\\').ToArray());
}
