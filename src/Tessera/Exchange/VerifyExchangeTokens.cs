using System.Security.Claims;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Tessera.Protocol;
using Tessera.Protocol.Handlers;
using Tessera.Telemetry;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Tessera.Exchange;

/// <summary>
/// Before OpenIddict verifies the subject and actor tokens of a token exchange as its own, this verifies the
/// foreign ones and tells OpenIddict to leave them alone. A client that no exchange policy names is refused
/// first, before any token is looked at (and before any issuer's keys are fetched on its behalf).
/// RFC 8693 §2.2.2: an invalid or unacceptable subject or actor token is <c>invalid_request</c>.
/// </summary>
public sealed class VerifyForeignExchangeTokens(ExchangeTokenVerifier verifier, ExchangeDirectory exchange) : IOpenIddictServerHandler<ProcessAuthenticationContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
        .UseScopedHandler<VerifyForeignExchangeTokens>()
        .SetOrder(ValidateSubjectToken.Descriptor.Order - 500)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public async ValueTask HandleAsync(ProcessAuthenticationContext context)
    {
        if (context.EndpointType != OpenIddictServerEndpointType.Token || !context.Request.IsTokenExchangeGrantType())
        {
            return;
        }

        using var span = TesseraTelemetry.Start(TesseraTelemetry.Spans.ExchangeValidate);
        var record = ExchangeRecord.Of(context.Transaction);
        await VerifyAsync(context, record);
        if (span is not null && record.Rule != "client")
        {
            span.SetTag(TesseraTelemetry.Tags.Client, context.ClientId); // a client some exchange policy names, not any string sent
        }

        Describe(span, record);
    }

    private async Task VerifyAsync(ProcessAuthenticationContext context, ExchangeRecord record)
    {
        var policies = exchange.PoliciesOf(context.ClientId);
        if (policies.Count == 0)
        {
            record.Rule = "client";
            context.Reject(Errors.UnauthorizedClient, "No exchange policy allows this client to exchange tokens.");
            return;
        }

        if (context.ValidateSubjectToken && !string.IsNullOrEmpty(context.SubjectToken))
        {
            var outcome = await verifier.VerifyAsync(context.SubjectToken, context.SubjectTokenType!, context.ClientId!, actor: false, context.CancellationToken);
            if (!Apply(context, record, outcome, "subject_token"))
            {
                return;
            }

            if (outcome.Party is { } subject)
            {
                record.Subject = subject;
                context.ValidateSubjectToken = false;
                context.SubjectTokenPrincipal = Principal(subject);
            }
        }

        if (context.ValidateActorToken && !string.IsNullOrEmpty(context.ActorToken))
        {
            var outcome = await verifier.VerifyAsync(context.ActorToken, context.ActorTokenType!, context.ClientId!, actor: true, context.CancellationToken);
            if (!Apply(context, record, outcome, "actor_token") || outcome.Party is not { } actor)
            {
                return;
            }

            record.Actor = actor;
            context.ValidateActorToken = false;
            context.ActorTokenPrincipal = Principal(actor);
        }
    }

    /// <summary>Which sources were verified and, for a refusal, the rule; Tessera's own tokens are OpenIddict's to verify after this.</summary>
    internal static void Describe(System.Diagnostics.Activity? span, ExchangeRecord record)
    {
        if (span is null)
        {
            return;
        }

        if (record.Subject is { } subject)
        {
            span.SetTag(TesseraTelemetry.Tags.Issuer, subject.Source);
            span.SetTag(TesseraTelemetry.Tags.Organization, subject.Identity?.OrganizationId);
        }

        if (record.Rule is { } rule)
        {
            TesseraTelemetry.Failed(span, rule);
        }
        else
        {
            TesseraTelemetry.Succeeded(span);
        }
    }

    private static bool Apply(ProcessAuthenticationContext context, ExchangeRecord record, ExchangeTokenOutcome outcome, string role)
    {
        if (outcome.Rule is null)
        {
            return true;
        }

        record.Rule = $"{role}.{outcome.Rule}";
        context.Reject(Errors.InvalidRequest, outcome.Description);
        return false;
    }

    /// <summary>A placeholder principal for OpenIddict's pipeline; the exchange itself reads the verified party.</summary>
    private static ClaimsPrincipal Principal(ExchangeParty party)
    {
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Subject, Claims.Role);
        identity.SetClaim(Claims.Subject, party.Subject);
        return new ClaimsPrincipal(identity);
    }
}

/// <summary>
/// Tessera's own access or ID token may be exchanged by the client it was issued to, or by a client registered for
/// the API it was meant for (the rule introspection follows). This replaces OpenIddict's narrower presenter rule
/// for exchanges, which would refuse an API exchanging the token a browser app sent it.
/// </summary>
public sealed class AuthorizeOwnExchangeTokens(ClientRegistry clients) : IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
        .UseSingletonHandler<AuthorizeOwnExchangeTokens>()
        .SetOrder(OpenIddictServerHandlers.Exchange.ValidateAuthorizedParty.Descriptor.Order - 10)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        if (!context.Request.IsTokenExchangeGrantType() || clients.Find(context.ClientId) is not { } caller)
        {
            return ValueTask.CompletedTask;
        }

        foreach (var (principal, role) in new[] { (context.SubjectTokenPrincipal, "subject"), (context.ActorTokenPrincipal, "actor") })
        {
            if (principal is null || principal.GetTokenType() is null)
            {
                continue; // absent, or a verified foreign token
            }

            if (!AuthorizeIntrospectionByAudience.IsIssuedToOrFor(principal, caller))
            {
                ExchangeRecord.Of(context.Transaction).Rule = $"{role}_token.not_for_client";
                context.Reject(Errors.InvalidRequest, $"The {role} token was neither issued to this client nor meant for one of its APIs.");
                return ValueTask.CompletedTask;
            }

            principal.RemoveClaims(Claims.Private.Presenter);
        }

        return ValueTask.CompletedTask;
    }
}
