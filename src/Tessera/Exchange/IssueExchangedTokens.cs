using System.Collections.Immutable;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Tessera.Federation;
using Tessera.Hosting;
using Tessera.Identity;
using Tessera.Protocol;
using Tessera.Sessions;
using Tessera.Storage;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Tessera.Exchange;

/// <summary>
/// RFC 8693 token exchange, once the subject (and actor) token is verified: the client's policy for that source
/// and audience decides. The result only narrows (DESIGN invariant 5): its audience comes from the policy, its
/// scopes lie within the policy and the request, its lifetime within the policy and the subject token's. The
/// subject becomes the internal user through the same identity links as sign-in; a disabled user gets nothing.
/// With an actor token the result names the actor in <c>act</c> (nesting the subject token's own chain); without
/// one it is impersonation, which only a policy that says so allows.
/// </summary>
public sealed class IssueExchangedTokens(
    ClientRegistry clients,
    ExchangeDirectory exchange,
    ConnectionDirectory connections,
    IdentityResolver identities,
    SessionStore sessions,
    TesseraDbContext db,
    TesseraConfiguration configuration,
    TesseraIssuer issuer,
    TimeProvider time) : IOpenIddictServerHandler<HandleTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleTokenRequestContext>()
        .UseScopedHandler<IssueExchangedTokens>()
        .SetOrder(OpenIddictServerHandlers.Exchange.AttachPrincipal.Descriptor.Order + 1_000)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    private sealed record Refusal(string Error, string Rule, string Description);

    public async ValueTask HandleAsync(HandleTokenRequestContext context)
    {
        if (!context.Request.IsTokenExchangeGrantType())
        {
            return;
        }

        var record = ExchangeRecord.Of(context.Transaction);
        var client = clients.Find(context.ClientId);
        if (client is null || context.SubjectTokenPrincipal is null)
        {
            context.Reject(Errors.InvalidClient, "The client is not registered.");
            return;
        }

        record.Subject ??= Own(context.SubjectTokenPrincipal);
        record.Actor ??= context.ActorTokenPrincipal is { } actorPrincipal ? Own(actorPrincipal) : null;
        var (principal, refusal) = await ExchangeAsync(context.Request, client, record, context.CancellationToken);
        if (refusal is not null)
        {
            record.Rule = refusal.Rule;
            context.Reject(refusal.Error, refusal.Description);
            return;
        }

        context.Principal = principal;
    }

    /// <summary>
    /// The principal to issue for a request whose verified subject <paramref name="record"/> names, or null when the
    /// exchange is refused (the lean path leaves a refusal to the pipeline, which decides again here and answers it).
    /// </summary>
    public async Task<ClaimsPrincipal?> DecideAsync(OpenIddictRequest request, ClientOptions client, ExchangeRecord record, CancellationToken cancellationToken) =>
        (await ExchangeAsync(request, client, record, cancellationToken)).Principal;

    private async Task<(ClaimsPrincipal? Principal, Refusal? Refusal)> ExchangeAsync(OpenIddictRequest request, ClientOptions client, ExchangeRecord record, CancellationToken cancellationToken)
    {
        var (subject, actor) = (record.Subject!, record.Actor);
        var (policy, audiences, refusal) = ChoosePolicy(request, client, subject);
        if (refusal is not null)
        {
            return (null, refusal);
        }

        refusal = CheckActor(policy!, subject, actor);
        var issuedType = string.IsNullOrEmpty(request.RequestedTokenType) ? ExchangeTokenTypes.AccessToken : request.RequestedTokenType;
        if (refusal is null && issuedType == ExchangeTokenTypes.IdToken && !policy!.IdTokens)
        {
            refusal = new(Errors.InvalidRequest, "token_type", "This client may not obtain ID tokens by exchange.");
        }

        if (refusal is null && issuedType == ExchangeTokenTypes.IdToken && subject.Disclosed is not null)
        {
            refusal = new(Errors.InvalidRequest, "token_type", "A presentation names no user to write an ID token for; ask for an access token.");
        }

        if (refusal is not null)
        {
            return (null, refusal);
        }

        var beyond = request.GetScopes().FirstOrDefault(s => !policy!.Scopes.Contains(s, StringComparer.Ordinal));
        if (beyond is not null)
        {
            return (null, new(Errors.InvalidScope, "scope", $"The scope '{(beyond.Length > 100 ? beyond[..100] : beyond)}' is beyond what this exchange may grant."));
        }

        if (subject.Disclosed is { } disclosed)
        {
            return Presented(request, client, policy!, subject, disclosed, audiences!, issuedType, record);
        }

        // Every check runs before a just-in-time user is created, so a refused exchange creates nothing.
        var (user, grants, userRefusal) = await FindUserAsync(policy!, subject, cancellationToken);
        if (userRefusal is not null)
        {
            return (null, userRefusal);
        }

        var scopes = Scopes(request, policy!, grants!);
        if (scopes.Count == 0 && issuedType != ExchangeTokenTypes.IdToken)
        {
            return (null, new(Errors.InvalidScope, "scope", "None of the requested scopes is granted to this subject."));
        }

        var lifetime = Lifetime(client, policy!, subject, issuedType);
        if (lifetime <= TimeSpan.Zero)
        {
            return (null, new(Errors.InvalidRequest, "subject_token.expired", "The subject token has expired."));
        }

        user ??= await identities.ResolveAsync(subject.Identity!, cancellationToken);
        record.UserId = user.Id;
        record.OrganizationId = user.OrganizationId;
        record.Audience = string.Join(' ', audiences!);
        record.Scopes = string.Join(' ', scopes);
        return (Principal(user, subject, actor, grants!, scopes, audiences!, issuedType, lifetime), null);
    }

    /// <summary>
    /// A verified presentation's token: no user, so no organization, session or rule grants; the pairwise holder
    /// subject and the disclosed claims, with scopes (none a mapping rule restricts) and lifetime bounded as for any
    /// subject, the credentials' expiry standing for the subject token's.
    /// </summary>
    private (ClaimsPrincipal? Principal, Refusal? Refusal) Presented(OpenIddictRequest request, ClientOptions client, ExchangePolicyOptions policy,
        ExchangeParty subject, JsonObject disclosed, IReadOnlyList<string> audiences, string issuedType, ExchangeRecord record)
    {
        var scopes = Scopes(request, policy, SessionGrants.None);
        if (scopes.Count == 0)
        {
            return (null, new(Errors.InvalidScope, "scope", "None of the requested scopes is granted to a presentation."));
        }

        var lifetime = Lifetime(client, policy, subject, issuedType);
        if (lifetime <= TimeSpan.Zero)
        {
            return (null, new(Errors.InvalidRequest, "subject_token.expired", "The presented credential has expired."));
        }

        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, subject.Subject);
        foreach (var (name, value) in disclosed)
        {
            switch (value)
            {
                case JsonObject item:
                    identity.SetClaim(name, item);
                    break;
                case JsonArray items:
                    identity.SetClaim(name, items);
                    break;
                case JsonValue item:
                    identity.SetClaim(name, JsonSerializer.SerializeToElement(item));
                    break;
            }
        }

        record.Audience = string.Join(' ', audiences);
        record.Scopes = string.Join(' ', scopes);
        return (Finish(identity, scopes, audiences, issuedType, lifetime), null);
    }

    /// <summary>The client's policy that accepts the subject's source and every requested target; with none requested, a policy with exactly one audience.</summary>
    private (ExchangePolicyOptions? Policy, IReadOnlyList<string>? Audiences, Refusal? Refusal) ChoosePolicy(OpenIddictRequest request, ClientOptions client, ExchangeParty subject)
    {
        var policies = exchange.PoliciesOf(client.ClientId)
            .Where(p => subject.Presentation is { } presentation
                ? p.Presentations.Contains(presentation, StringComparer.Ordinal)
                : p.SubjectIssuers.Contains(subject.Source, StringComparer.Ordinal))
            .ToList();
        if (policies.Count == 0)
        {
            return (null, null, new(Errors.InvalidRequest, "subject_token.issuer_not_allowed", "This client may not exchange subject tokens from this issuer."));
        }

        var targets = request.GetResources().Concat(request.GetAudiences()).Distinct(StringComparer.Ordinal).ToList();
        if (targets.Count > 0)
        {
            var policy = policies.FirstOrDefault(p => targets.All(t => p.Audiences.Contains(t, StringComparer.Ordinal)));
            return policy is null
                ? (null, null, new(Errors.InvalidTarget, "audience", "The requested audience is not one this client may exchange tokens for."))
                : (policy, targets, null);
        }

        var single = policies.FirstOrDefault(p => p.Audiences.Count == 1);
        return single is null
            ? (null, null, new(Errors.InvalidTarget, "audience", "Name the audience (audience or resource): this client may exchange tokens for more than one."))
            : (single, single.Audiences, null);
    }

    private static Refusal? CheckActor(ExchangePolicyOptions policy, ExchangeParty subject, ExchangeParty? actor)
    {
        if (actor is null)
        {
            return policy.Impersonation ? null
                : new(Errors.InvalidRequest, "impersonation", "This client may exchange only as a delegate: present an actor_token.");
        }

        if (!policy.Delegation)
        {
            return new(Errors.InvalidRequest, "delegation", "This client may not exchange with an actor token.");
        }

        if (!ExchangeDirectory.ActorSources(policy).Contains(actor.Source, StringComparer.Ordinal))
        {
            return new(Errors.InvalidRequest, "actor_token.issuer_not_allowed", "This client may not present actor tokens from this issuer.");
        }

        // RFC 8693 §4.4: when the subject token says who may act for it, only that party may.
        return subject.MayAct is { } mayAct && !Names(mayAct, actor)
            ? new(Errors.InvalidRequest, "may_act", "The subject token does not allow this actor to act for its subject (may_act).")
            : null;
    }

    private static bool Names(JsonElement mayAct, ExchangeParty actor) =>
        mayAct.TryGetProperty("sub", out var sub) && sub.ValueKind == JsonValueKind.String && sub.GetString() == actor.Subject
        && (!mayAct.TryGetProperty("iss", out var iss) || iss.ValueKind == JsonValueKind.String && SameIssuer(iss.GetString(), actor.Issuer));

    private static bool SameIssuer(string? a, string b) => string.Equals(a?.TrimEnd('/'), b.TrimEnd('/'), StringComparison.Ordinal);

    /// <summary>
    /// The subject's user and what the rules grant it. A foreign subject no user is linked to yet yields no user
    /// and no refusal when the policy creates users just in time: the caller creates it once everything else holds.
    /// </summary>
    private async Task<(UserRecord? User, SessionGrants? Grants, Refusal? Refusal)> FindUserAsync(ExchangePolicyOptions policy, ExchangeParty subject, CancellationToken cancellationToken)
    {
        if (subject.UserId is { } userId)
        {
            var grants = SessionGrants.None;
            if (subject.SessionId is { } sessionId)
            {
                var session = await sessions.FindActiveByIdAsync(sessionId, cancellationToken);
                if (session is null)
                {
                    return (null, null, new(Errors.InvalidGrant, "session_ended", "The sign-in session behind the subject token has ended."));
                }

                grants = SessionGrants.FromJson(session.Grants);
            }

            var own = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, cancellationToken);
            return own is null ? (null, null, new(Errors.InvalidGrant, "unknown_subject", "The subject token does not name a user."))
                : own.DisabledAt is not null ? (null, null, new(Errors.InvalidGrant, "user_disabled", "The user is disabled."))
                : (own, grants, null);
        }

        if (subject.Identity is not { } identity)
        {
            return (null, null, new(Errors.InvalidGrant, "unknown_subject", "The subject token does not name a user."));
        }

        var user = await identities.FindAsync(identity, cancellationToken);
        if (user is null && !policy.JustInTimeUsers)
        {
            return (null, null, new(Errors.InvalidGrant, "unknown_subject", "No user is linked to this subject, and this exchange does not create users."));
        }

        if (user?.DisabledAt is not null)
        {
            return (null, null, new(Errors.InvalidGrant, "user_disabled", "The user is disabled."));
        }

        var rules = connections.FindOrganization(identity.OrganizationId)?.Rules.AsEnumerable() ?? [];
        if (exchange.IssuerOptions(subject.Source) is { } issuer)
        {
            rules = rules.Concat(issuer.Rules);
        }

        return (user, MappingRules.Evaluate(rules, identity.Claims, identity.MappedClaims), null);
    }

    /// <summary>
    /// The requested scopes (all of the policy's when none are requested), less those a mapping rule grants
    /// somewhere but did not grant to this subject.
    /// </summary>
    private IReadOnlyList<string> Scopes(OpenIddictRequest request, ExchangePolicyOptions policy, SessionGrants grants)
    {
        var requested = request.GetScopes();
        var (organizationRules, issuerRules) = (connections.RuleGrantedScopes(), exchange.RuleGrantedScopes());
        var scopes = new List<string>();
        foreach (var scope in requested.IsDefaultOrEmpty ? policy.Scopes : (IReadOnlyList<string>)requested)
        {
            var restricted = organizationRules.Contains(scope) || issuerRules.Contains(scope);
            if ((!restricted || grants.Scopes.Contains(scope, StringComparer.Ordinal)) && !scopes.Contains(scope, StringComparer.Ordinal))
            {
                scopes.Add(scope);
            }
        }

        return scopes;
    }

    private TimeSpan Lifetime(ClientOptions client, ExchangePolicyOptions policy, ExchangeParty subject, string issuedType)
    {
        var tokens = configuration.Current.Tokens;
        var lifetime = issuedType == ExchangeTokenTypes.IdToken ? tokens.IdentityToken : client.AccessTokenLifetime ?? tokens.AccessToken;
        if (policy.MaxLifetime is { } max && max < lifetime)
        {
            lifetime = max;
        }

        if (!policy.OutliveSubjectToken && subject.ExpiresAt is { } expires && expires - time.GetUtcNow() < lifetime)
        {
            lifetime = expires - time.GetUtcNow();
        }

        return TimeSpan.FromSeconds(Math.Floor(lifetime.TotalSeconds));
    }

    private static ClaimsPrincipal Principal(UserRecord user, ExchangeParty subject, ExchangeParty? actor, SessionGrants grants,
        IReadOnlyList<string> scopes, IReadOnlyList<string> audiences, string issuedType, TimeSpan lifetime)
    {
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, user.Id.ToString());
        identity.SetClaim(TesseraClaims.Organization, user.OrganizationId);
        if (subject.SessionId is not null)
        {
            identity.SetClaim(TesseraClaims.SessionId, subject.SessionId);
        }

        // Rule grants win over mapped claims of the same name.
        foreach (var (name, value) in subject.Identity?.MappedClaims ?? EmptyClaims)
        {
            identity.SetClaim(name, value);
        }

        foreach (var (name, value) in grants.Claims)
        {
            identity.SetClaim(name, value);
        }

        if (actor is not null)
        {
            identity.SetClaim(TesseraClaims.Actor, Act(actor, subject.Act));
        }

        return Finish(identity, scopes, audiences, issuedType, lifetime);
    }

    private static ClaimsPrincipal Finish(ClaimsIdentity identity, IReadOnlyList<string> scopes, IReadOnlyList<string> audiences, string issuedType, TimeSpan lifetime)
    {
        // Only these claims are the user's; OpenIddict's own (scopes, resources, lifetimes, added below) are placed
        // by OpenIddict whatever their destinations say.
        foreach (var claim in identity.Claims)
        {
            claim.SetDestinations(IssuedTokenDestinations);
        }

        var principal = new ClaimsPrincipal(identity);
        principal.SetScopes(scopes);
        principal.SetResources(audiences);
        _ = issuedType switch
        {
            ExchangeTokenTypes.IdToken => principal.SetIdentityTokenLifetime(lifetime),
            ExchangeTokenTypes.Jwt => principal.SetIssuedTokenLifetime(lifetime),
            _ => principal.SetAccessTokenLifetime(lifetime),
        };
        return principal;
    }

    private static readonly Dictionary<string, string> EmptyClaims = [];
    private static readonly ImmutableArray<string> IssuedTokenDestinations = [Destinations.AccessToken, Destinations.IssuedToken];

    /// <summary>RFC 8693 §4.1: the current actor, with the chain the subject token already carried nested inside.</summary>
    private static JsonObject Act(ExchangeParty actor, JsonElement? prior)
    {
        var act = new JsonObject { ["sub"] = actor.Subject, ["iss"] = actor.Issuer };
        if (prior is { } chain)
        {
            act["act"] = JsonNode.Parse(chain.GetRawText());
        }

        return act;
    }

    /// <summary>Tessera's own subject or actor token, as OpenIddict verified it.</summary>
    private ExchangeParty Own(ClaimsPrincipal principal)
    {
        var subject = principal.GetClaim(Claims.Subject) ?? "";
        return new ExchangeParty(ExchangeOptionsValidator.TesseraIssuerId, issuer.Name, subject)
        {
            UserId = Guid.TryParse(subject, out var id) ? id : null,
            SessionId = principal.GetClaim(TesseraClaims.SessionId),
            ExpiresAt = principal.GetExpirationDate(),
            Act = JsonClaim(principal, TesseraClaims.Actor),
            MayAct = JsonClaim(principal, TesseraClaims.MayAct),
        };
    }

    private static JsonElement? JsonClaim(ClaimsPrincipal principal, string type)
    {
        if (principal.GetClaim(type) is not { Length: > 0 } value)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(value);
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
