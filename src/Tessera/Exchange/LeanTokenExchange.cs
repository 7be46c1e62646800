using System.Security.Claims;
using OpenIddict.Abstractions;
using Tessera.Hosting;
using Tessera.Risk;
using Tessera.Telemetry;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Tessera.Exchange;

/// <summary>A lean exchange's outcome: the principal to issue, and the record its audit row and metric are written from.</summary>
public sealed record LeanExchange(ClaimsPrincipal Principal, ExchangeRecord Record);

/// <summary>
/// The exchange half of <see cref="Protocol.LeanTokenPath"/>: a foreign JWT subject token, verified by the same
/// <see cref="ExchangeTokenVerifier"/> and decided by the same <see cref="IssueExchangedTokens"/> as in OpenIddict's
/// pipeline, for an organization no anomaly rule watches. Whatever else the request is (Tessera's own token, a SAML
/// assertion or a presentation, an actor, a refusal, a claim the token could not carry as the pipeline would), it is
/// left to the pipeline, which verifies and decides again and answers.
/// </summary>
public sealed class LeanTokenExchange(ExchangeDirectory exchange, ExchangeTokenVerifier verifier, IssueExchangedTokens decision, TesseraConfiguration configuration)
{
    private static readonly HashSet<string> Shape = new(StringComparer.Ordinal)
    {
        Parameters.GrantType, Parameters.SubjectToken, Parameters.SubjectTokenType, Parameters.Scope, Parameters.RequestedTokenType,
        Parameters.Audience, Parameters.Resource,
    };

    private static readonly HashSet<string> JwtSubjects = new(StringComparer.Ordinal)
    {
        ExchangeTokenTypes.Jwt, ExchangeTokenTypes.AccessToken, ExchangeTokenTypes.IdToken,
    };

    /// <summary>Claims Tessera writes itself; a principal that carries one of them is the pipeline's.</summary>
    private static readonly HashSet<string> Written = new(StringComparer.Ordinal)
    {
        Claims.Issuer, Claims.IssuedAt, Claims.ExpiresAt, Claims.NotBefore, Claims.Audience, Claims.Scope, Claims.JwtId,
        Claims.ClientId, Claims.Private.Presenter, "typ", "cnf",
    };

    /// <summary>
    /// A request the lean path may answer: a subject token that is a JWT, no actor, an access token asked for or nothing
    /// asked for, and at most an audience and a resource (which the policy decides on, as in the pipeline); a resource
    /// only as an http or https URI with no fragment, the form OpenIddict's resource check certainly lets through.
    /// </summary>
    public static bool Answers(IFormCollection form) =>
        form.All(p => Shape.Contains(p.Key))
        && form[Parameters.SubjectToken].ToString().Length > 0
        && JwtSubjects.Contains(form[Parameters.SubjectTokenType].ToString())
        && (!form.TryGetValue(Parameters.RequestedTokenType, out var requested) || requested == ExchangeTokenTypes.AccessToken)
        && (!form.TryGetValue(Parameters.Resource, out var resource) || IsPlainWebUri(resource.ToString()));

    private static bool IsPlainWebUri(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
        && !value.Contains('#', StringComparison.Ordinal);

    /// <summary>The verified subject and the decision, or null when the pipeline is to answer.</summary>
    public async Task<LeanExchange?> ExchangeAsync(OpenIddictRequest request, ClientOptions client, CancellationToken cancellationToken)
    {
        if (exchange.PoliciesOf(client.ClientId).Count == 0)
        {
            return null;
        }

        var started = DateTimeOffset.UtcNow;
        var outcome = await verifier.VerifyAsync(request.SubjectToken!, request.SubjectTokenType!, client.ClientId, actor: false, cancellationToken);
        var verified = DateTimeOffset.UtcNow;
        if (outcome.Party is not { Identity: not null, Disclosed: null } subject)
        {
            return null;
        }

        var record = new ExchangeRecord { Subject = subject };
        var principal = await decision.DecideAsync(request, client, record, cancellationToken);
        if (principal is null || AnomalyResponse.Applies(configuration, record.OrganizationId))
        {
            return null;
        }

        // The verification's span as the pipeline reports it, begun once the exchange is known to be answered here: a
        // request left to the pipeline is reported there, once.
        using (var span = TesseraTelemetry.Start(TesseraTelemetry.Spans.ExchangeValidate, started))
        {
            span?.SetTag(TesseraTelemetry.Tags.Client, client.ClientId);
            VerifyForeignExchangeTokens.Describe(span, record);
            span?.SetEndTime(verified.UtcDateTime);
        }

        return new LeanExchange(principal, record);
    }

    /// <summary>
    /// The access token's claims as OpenIddict writes them for <paramref name="principal"/> (its audiences, scopes, a new
    /// <c>jti</c>, the user's claims, the presenter and client), or null when a claim is not a plain string or would
    /// stand in for one of these: such a principal is the pipeline's to write.
    /// </summary>
    public static Dictionary<string, object>? TokenClaims(ClaimsPrincipal principal, ClientOptions client)
    {
        var audiences = principal.GetResources();
        var claims = new Dictionary<string, object>(12, StringComparer.Ordinal)
        {
            [Claims.Audience] = audiences.Length == 1 ? audiences[0] : audiences.ToArray(),
            [Claims.Scope] = string.Join(' ', principal.GetScopes()),
            [Claims.JwtId] = Guid.NewGuid().ToString(),
            [Claims.Private.Presenter] = client.ClientId,
            [Claims.ClientId] = client.ClientId,
        };
        foreach (var claim in principal.Claims)
        {
            if (claim.Type.StartsWith("oi_", StringComparison.Ordinal))
            {
                continue; // OpenIddict's own (scopes, resources, lifetime), written above as the pipeline writes them
            }

            if (claim.ValueType != ClaimValueTypes.String || Written.Contains(claim.Type) || !claims.TryAdd(claim.Type, claim.Value))
            {
                return null;
            }
        }

        return claims;
    }
}
