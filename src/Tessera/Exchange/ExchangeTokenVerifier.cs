using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Tessera.Federation;
using Tessera.Hosting;

namespace Tessera.Exchange;

/// <summary>How a presented subject or actor token was judged: Tessera's own (OpenIddict verifies it), verified foreign, or refused.</summary>
public sealed record ExchangeTokenOutcome(bool IsOwn, ExchangeParty? Party, string? Rule, string? Description)
{
    public static readonly ExchangeTokenOutcome Own = new(true, null, null, null);

    public static ExchangeTokenOutcome Refused(string rule, string description) => new(false, null, rule, description);
}

/// <summary>
/// Verifies foreign subject and actor tokens against the sources the client's policies name, and only those:
/// JWTs (<c>jwt</c>, or a foreign <c>access_token</c> / <c>id_token</c>) with <see cref="ForeignTokenValidator"/>,
/// upstream assertions (<c>saml2</c>) by the connector of a connection that trusts their IdP (<see cref="IExchangesAssertions"/>). A JWT whose
/// <c>iss</c> is Tessera is left to OpenIddict, which checks it against Tessera's own keys and token store.
/// </summary>
public sealed class ExchangeTokenVerifier(
    ForeignTokenValidator jwts,
    ExchangeDirectory exchange,
    ConnectionDirectory connections,
    IServiceProvider services,
    TesseraIssuer tessera)
{
    /// <param name="actor">Whether the token is the actor token (policies may name other sources for actors).</param>
    public async Task<ExchangeTokenOutcome> VerifyAsync(string token, string tokenType, string clientId, bool actor, CancellationToken cancellationToken)
    {
        var name = actor ? "actor token" : "subject token";
        if (tokenType == ExchangeTokenTypes.Presentation)
        {
            return actor
                ? ExchangeTokenOutcome.Refused("token_type", "A presentation names a holder, not an actor; it is accepted only as the subject token.")
                : await VerifyPresentationAsync(token, clientId, cancellationToken);
        }

        if (tokenType == ExchangeTokenTypes.Saml2)
        {
            return await VerifyAssertionAsync(token, tokenType, ExchangeDirectory.Sources(exchange.PoliciesOf(clientId), actor), name, cancellationToken);
        }

        if (token.Length > ForeignTokenValidator.MaxTokenLength)
        {
            return ExchangeTokenOutcome.Refused("oversized", $"The {name} is larger than allowed.");
        }

        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return ExchangeTokenOutcome.Refused("malformed", $"The {name} is not a well-formed JWT.");
        }

        // Tessera never accepts an encrypted foreign token; an encrypted one can only be its own (and OpenIddict
        // refuses it unless it is the type named). Tessera's own access and ID tokens are signed JWTs naming it.
        if (jwt.IsEncrypted || IsTessera(jwt.Issuer))
        {
            return tokenType == ExchangeTokenTypes.Jwt
                ? ExchangeTokenOutcome.Refused("token_type", $"Tessera's own tokens are exchanged as access_token or id_token, not as jwt.")
                : ExchangeTokenOutcome.Own;
        }

        var result = await jwts.ValidateAsync(jwt, exchange.IssuersFor(clientId, actor), cancellationToken, name);
        if (!result.Succeeded)
        {
            if (result.Rule == "untrusted_issuer" && exchange.Issuers(exchange.AllIssuerIds).Any(i => i.Issuer == jwt.Issuer))
            {
                return ExchangeTokenOutcome.Refused("issuer_not_allowed", $"This client may not exchange {name}s from this issuer.");
            }

            return ExchangeTokenOutcome.Refused(result.Rule!, result.Description!);
        }

        var options = exchange.IssuerOptions(result.Issuer!.Id)!;
        var readsClaims = options.ClaimMappings.Count > 0 || options.Rules.Count > 0 || connections.FindOrganization(options.Organization)?.Rules.Count > 0;
        return new ExchangeTokenOutcome(false, Party(options, result.Token!, result.Subject!, readsClaims), null, null);
    }

    /// <summary>A key-bound SD-JWT VC presentation, for a presentation one of the client's policies names.</summary>
    private async Task<ExchangeTokenOutcome> VerifyPresentationAsync(string token, string clientId, CancellationToken cancellationToken)
    {
        var exchangeable = exchange.PresentationsOf(clientId);
        if (exchangeable.Count == 0)
        {
            return ExchangeTokenOutcome.Refused("issuer_not_allowed", "This client may not exchange presentations.");
        }

        // Resolved here, not injected: only presentations need it (and its verifier, keys and database context).
        var presentations = services.GetRequiredService<Credentials.PresentationExchange>();
        var (presentation, refusal) = await presentations.VerifyAsync(token, clientId, exchangeable, cancellationToken);
        return presentation is null
            ? ExchangeTokenOutcome.Refused(refusal!.Reason, $"The subject token was refused: {refusal.Description}")
            : new ExchangeTokenOutcome(false, new ExchangeParty(presentation.PresentationId, presentation.Issuer, presentation.Subject)
            {
                Presentation = presentation.PresentationId,
                Disclosed = presentation.Claims,
                ExpiresAt = presentation.ExpiresAt,
            }, null, null);
    }

    private bool IsTessera(string? issuer) => string.Equals(issuer, tessera.Name, StringComparison.Ordinal);

    /// <param name="readsClaims">Whether a mapping or rule reads the token's claims; when none does, they are not copied out.</param>
    private static ExchangeParty Party(TrustedIssuerOptions options, JsonWebToken jwt, string subject, bool readsClaims)
    {
        var claims = !readsClaims ? new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
            : jwt.Claims.GroupBy(c => c.Type, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(c => c.Value).ToList(), StringComparer.Ordinal);
        var mapped = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var mapping in options.ClaimMappings)
        {
            if (claims.TryGetValue(mapping.From, out var values) && values.Count > 0)
            {
                claims[mapping.Claim] = values;
                mapped[mapping.Claim] = string.Join(' ', values);
            }
        }

        return new ExchangeParty(options.Id, jwt.Issuer, subject)
        {
            Identity = new UpstreamIdentity(options.Organization, options.Connection ?? options.Id, subject, claims)
            {
                // An exchange is not a sign-in: the address is kept as an attribute, never as verified.
                Email = jwt.TryGetPayloadValue<string>("email", out var email) ? email : null,
                Name = jwt.TryGetPayloadValue<string>("name", out var fullName) ? fullName : null,
                MappedClaims = mapped,
            },
            ExpiresAt = jwt.ValidTo == DateTime.MinValue ? null : new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero),
            Act = Json(jwt, "act"),
            MayAct = Json(jwt, "may_act"),
        };
    }

    private static JsonElement? Json(JsonWebToken jwt, string claim) =>
        jwt.TryGetPayloadValue<JsonElement>(claim, out var value) && value.ValueKind == JsonValueKind.Object ? value.Clone() : null;

    /// <summary>An assertion of an upstream IdP, verified by the connector of a connection the client's policies name.</summary>
    private async Task<ExchangeTokenOutcome> VerifyAssertionAsync(string token, string tokenType, IReadOnlyCollection<string> sources, string name, CancellationToken cancellationToken)
    {
        // Resolved here, not injected: only assertion subjects need the request's connectors (and their database context).
        var verifiers = services.GetServices<IConnector>().OfType<IExchangesAssertions>().Where(v => v.TokenType == tokenType).ToList();
        var candidates = sources.Select(connections.FindConnection).OfType<Connection>()
            .Select(c => (Connection: c, Verifier: verifiers.FirstOrDefault(v => v is IConnector connector && connector.Protocol == c.Protocol)))
            .Where(c => c.Verifier is not null).ToList();
        if (candidates.Count == 0)
        {
            return ExchangeTokenOutcome.Refused("issuer_not_allowed", $"This client may not exchange these assertions as {name}s.");
        }

        AssertionVerification? first = null;
        foreach (var (connection, verifier) in candidates)
        {
            var verification = await verifier!.VerifyAssertionAsync(connection, token, cancellationToken);
            if (verification.Succeeded)
            {
                return new ExchangeTokenOutcome(false, new ExchangeParty(connection.Id, verification.Issuer!, verification.Identity!.Subject)
                {
                    Identity = verification.Identity,
                    ExpiresAt = verification.ExpiresAt,
                }, null, null);
            }

            if (!verification.TryOthers)
            {
                return ExchangeTokenOutcome.Refused(verification.Rule!, verification.Description!);
            }

            first ??= verification.Rule is null ? null : verification;
        }

        return first is null
            ? ExchangeTokenOutcome.Refused("issuer_not_allowed", $"The {name} was issued by an identity provider this client may not exchange assertions from.")
            : ExchangeTokenOutcome.Refused(first.Rule!, first.Description!);
    }
}
