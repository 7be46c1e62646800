using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Tessera.Federation;
using Tessera.Hosting;
using Tessera.Saml;

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
/// SAML assertions (<c>saml2</c>) with Tessera.Saml against the SAML connection that trusts their IdP. A JWT whose
/// <c>iss</c> is Tessera is left to OpenIddict, which checks it against Tessera's own keys and token store.
/// </summary>
public sealed class ExchangeTokenVerifier(
    ForeignTokenValidator jwts,
    ExchangeDirectory exchange,
    ConnectionDirectory connections,
    SamlIdentityProviders samlProviders,
    SamlResponseValidator saml,
    IServiceProvider services,
    TesseraIssuer tessera)
{
    /// <param name="actor">Whether the token is the actor token (policies may name other sources for actors).</param>
    public async Task<ExchangeTokenOutcome> VerifyAsync(string token, string tokenType, string clientId, bool actor, CancellationToken cancellationToken)
    {
        var name = actor ? "actor token" : "subject token";
        if (tokenType == ExchangeTokenTypes.Saml2)
        {
            return await VerifySamlAsync(token, ExchangeDirectory.Sources(exchange.PoliciesOf(clientId), actor), name, cancellationToken);
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

    private async Task<ExchangeTokenOutcome> VerifySamlAsync(string token, IReadOnlyCollection<string> sources, string name, CancellationToken cancellationToken)
    {
        var candidates = sources.Select(connections.FindConnection).OfType<Connection>().Where(c => c.Options.Protocol == SamlConnector.ProtocolName).ToList();
        if (candidates.Count == 0)
        {
            return ExchangeTokenOutcome.Refused("issuer_not_allowed", $"This client may not exchange SAML assertions as {name}s.");
        }

        var tokenEndpoint = tessera.Url("/token");
        SamlFailure? first = null;
        foreach (var connection in candidates)
        {
            var (idp, error) = await samlProviders.GetAsync(connection.Options, cancellationToken);
            if (idp is null)
            {
                first ??= new SamlFailure("saml_metadata", error ?? "The identity provider's metadata is not available.");
                continue;
            }

            var sp = SamlConnectionSettings.ServiceProvider(tessera, connection.Options);
            var trust = new SamlTrust(idp, sp, SamlConnectionSettings.Policy(connection.Options));
            var result = saml.ValidateAssertion(token, trust, [sp.EntityId, tokenEndpoint, tessera.Name], [sp.AssertionConsumerServiceUrl.AbsoluteUri, tokenEndpoint]);
            if (!result.Succeeded)
            {
                // Another connection may trust the IdP that issued it; an issuer mismatch says nothing yet.
                first = result.Failure!.Rule == SamlRules.Issuer ? first : first ?? result.Failure;
                continue;
            }

            var assertion = result.Assertion!;
            // Resolved here, not injected: only SAML subjects need the request's database context and connector.
            var replayCache = services.GetRequiredService<DatabaseSamlReplayCache>();
            if (!await replayCache.TryRecordAsync(assertion.Issuer, assertion.Id, assertion.NotOnOrAfter + trust.Policy.ClockSkew, cancellationToken))
            {
                return ExchangeTokenOutcome.Refused(SamlRules.Replay, "This assertion was already used.");
            }

            var identity = services.GetRequiredService<SamlConnector>().Identity(connection, assertion);
            if (!identity.Succeeded)
            {
                return ExchangeTokenOutcome.Refused(identity.Error!, identity.Description!);
            }

            return new ExchangeTokenOutcome(false, new ExchangeParty(connection.Id, assertion.Issuer, identity.Identity!.Subject)
            {
                Identity = identity.Identity,
                ExpiresAt = assertion.NotOnOrAfter,
            }, null, null);
        }

        return first is null
            ? ExchangeTokenOutcome.Refused("issuer_not_allowed", $"The {name} was issued by an identity provider this client may not exchange assertions from.")
            : ExchangeTokenOutcome.Refused(first.Rule, first.Description);
    }
}
