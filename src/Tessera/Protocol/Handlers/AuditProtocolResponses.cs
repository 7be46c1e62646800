using OpenIddict.Abstractions;
using OpenIddict.Server;
using Microsoft.AspNetCore;
using OpenIddict.Server.AspNetCore;
using Tessera.Audit;
using Tessera.Exchange;
using OpenIddictServer = OpenIddict.Server.OpenIddictServerHandlers;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// Every token endpoint answer and every refused authorization request becomes an audit row. Only names,
/// grant types, scopes and error codes are recorded, never a token or a secret.
/// </summary>
public sealed class AuditProtocolResponses(AuditLog audit) :
    IOpenIddictServerHandler<ApplyTokenResponseContext>,
    IOpenIddictServerHandler<ApplyAuthorizationResponseContext>,
    IOpenIddictServerHandler<ApplyIntrospectionResponseContext>
{
    public static OpenIddictServerHandlerDescriptor TokenDescriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
        .UseSingletonHandler<AuditProtocolResponses>().SetOrder(OpenIddictServer.Exchange.NormalizeErrorResponse.Descriptor.Order + 500).SetType(OpenIddictServerHandlerType.Custom).Build();

    public static OpenIddictServerHandlerDescriptor AuthorizationDescriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyAuthorizationResponseContext>()
        .UseSingletonHandler<AuditProtocolResponses>().SetOrder(int.MinValue + 100_000).SetType(OpenIddictServerHandlerType.Custom).Build();

    public static OpenIddictServerHandlerDescriptor IntrospectionDescriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyIntrospectionResponseContext>()
        .UseSingletonHandler<AuditProtocolResponses>().SetOrder(int.MinValue + 100_000).SetType(OpenIddictServerHandlerType.Custom).Build();

    public ValueTask HandleAsync(ApplyTokenResponseContext context)
    {
        var request = context.Request;
        var grant = request?.GrantType;
        var failed = !string.IsNullOrEmpty(context.Response.Error);
        if (request?.IsTokenExchangeGrantType() == true)
        {
            return AuditExchange(context, request, failed);
        }

        var name = failed ? AuditEvents.TokenRequestRefused : grant == GrantTypes.RefreshToken ? AuditEvents.TokenRefreshed : AuditEvents.TokenIssued;
        return audit.RecordAsync(Describe(context, name, failed, request?.ClientId) with
        {
            Detail = new Dictionary<string, string?>
            {
                ["grant_type"] = Bounded(grant),
                // RFC 6749 §5.1: the response names the scope only when it differs from the request's.
                ["scope"] = Bounded(failed ? request?.Scope : (string?)context.Response[Parameters.Scope] ?? request?.Scope),
                ["issued"] = failed ? null : string.Join(' ', new[]
                {
                    context.Response.AccessToken is null ? null : "access_token",
                    context.Response.IdToken is null ? null : "id_token",
                    context.Response.RefreshToken is null ? null : "refresh_token",
                }.Where(t => t is not null)),
            },
        });
    }

    private ValueTask AuditExchange(ApplyTokenResponseContext context, OpenIddictRequest request, bool failed)
    {
        var row = Describe(context, failed ? AuditEvents.TokenExchangeRefused : AuditEvents.TokenExchanged, failed, request.ClientId);
        var refusal = failed ? (context.Response.Error!, context.Response.ErrorDescription) : ((string, string?)?)null;
        return audit.RecordAsync(Exchange(row, request, ExchangeRecord.Find(context.Transaction), refusal));
    }

    /// <summary>
    /// RFC 8693: who was exchanged, by whom, from which issuer, into which audience and scopes, and what refused it
    /// (<paramref name="refusal"/>, null for an exchange that succeeded), on the row <paramref name="row"/> begun.
    /// </summary>
    public static AuditEvent Exchange(AuditEvent row, OpenIddictRequest request, ExchangeRecord? record, (string Error, string? Description)? refusal)
    {
        var failed = refusal is not null;
        var error = refusal?.Error;
        return row with
        {
            UserId = record?.UserId?.ToString(),
            OrganizationId = record?.OrganizationId,
            Reason = failed ? Bounded($"{record?.Rule ?? error}: {refusal?.Description}") : null,
            Detail = WithoutEmpty(new Dictionary<string, string?>
            {
                ["grant_type"] = "token_exchange",
                ["subject_issuer"] = Bounded(record?.Subject?.Source),
                ["subject"] = Bounded(record?.Subject?.Subject),
                ["actor_issuer"] = Bounded(record?.Actor?.Source),
                ["actor"] = Bounded(record?.Actor?.Subject),
                ["audience"] = Bounded(record?.Audience ?? string.Join(' ', request.GetResources().Concat(request.GetAudiences()))),
                ["scope"] = Bounded(failed ? request.Scope : record?.Scopes),
                ["subject_token_type"] = Bounded(request.SubjectTokenType),
                ["requested_token_type"] = Bounded(request.RequestedTokenType),
                ["rule"] = Bounded(record?.Rule),
                ["error"] = Bounded(error),
            }),
        };
    }

    /// <summary>Only what applies to this exchange (no actor, no rule on success), so rows stay small.</summary>
    private static Dictionary<string, string?> WithoutEmpty(Dictionary<string, string?> detail)
    {
        foreach (var (name, value) in detail)
        {
            if (string.IsNullOrEmpty(value))
            {
                detail.Remove(name);
            }
        }

        return detail;
    }

    public ValueTask HandleAsync(ApplyAuthorizationResponseContext context)
    {
        // Successful authorizations are audited where the code is issued, with the user and session; invalid
        // requests where the authorization page decides whether to redirect them. This records the refusals
        // Tessera itself sends to the client (login_required, access_denied, ...).
        var validation = context.Transaction.GetProperty<ValidateAuthorizationRequestContext>(typeof(ValidateAuthorizationRequestContext).FullName!);
        if (!string.IsNullOrEmpty(context.Response.Error) && validation?.IsRejected != true)
        {
            audit.Record(Describe(context, AuditEvents.AuthorizationRefused, true, context.Request?.ClientId) with
            {
                Detail = new Dictionary<string, string?> { ["redirected"] = (context.RedirectUri is not null).ToString() },
            });
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask HandleAsync(ApplyIntrospectionResponseContext context)
    {
        if (!string.IsNullOrEmpty(context.Response.Error) || context.Response[Parameters.Active] is { } active && !(bool)active)
        {
            audit.Record(Describe(context, AuditEvents.IntrospectionRefused, true, context.Request?.ClientId));
        }

        return ValueTask.CompletedTask;
    }

    private static AuditEvent Describe(BaseRequestContext context, string name, bool failed, string? clientId)
    {
        var http = context.Transaction.GetHttpRequest();
        var response = context.Transaction.Response;
        return new AuditEvent(name, failed ? AuditEvent.Failure : AuditEvent.Success)
        {
            ClientId = Bounded(clientId),
            IpAddress = http?.HttpContext.Connection.RemoteIpAddress?.ToString(),
            UserAgent = http?.Headers.UserAgent.ToString(),
            Reason = failed ? Bounded($"{response?.Error}: {response?.ErrorDescription}") : null,
        };
    }

    private static string? Bounded(string? value) => value is { Length: > 200 } ? value[..200] : value;
}
