using System.Globalization;
using OpenIddict.Server;
using Microsoft.AspNetCore;
using Tessera.Risk;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// The <c>FailureBurst</c> rule at the endpoints where clients authenticate: every <c>invalid_client</c> answer is
/// counted against the address and the client_id, and while a client is locked out every authentication as it is
/// refused before its secret or assertion is looked at (a guess cannot be tested), with <c>Retry-After</c>.
/// </summary>
public sealed class LockOutGuessedClients(FailureBursts bursts) :
    IOpenIddictServerHandler<ProcessAuthenticationContext>,
    IOpenIddictServerHandler<ProcessErrorContext>
{
    private const string LockedOut = "tessera:client_locked_out";

    public static OpenIddictServerHandlerDescriptor RefuseDescriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
        .UseSingletonHandler<LockOutGuessedClients>()
        .SetOrder(OpenIddictServerHandlers.ValidateClientId.Descriptor.Order - 500)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public static OpenIddictServerHandlerDescriptor CountDescriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessErrorContext>()
        .UseSingletonHandler<LockOutGuessedClients>()
        .SetOrder(int.MinValue + 100_000)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(ProcessAuthenticationContext context)
    {
        if (context.EndpointType is OpenIddictServerEndpointType.Token or OpenIddictServerEndpointType.Introspection
                or OpenIddictServerEndpointType.Revocation or OpenIddictServerEndpointType.PushedAuthorization
                or OpenIddictServerEndpointType.DeviceAuthorization
            && bursts.IsClientLockedOut(context.ClientId, out var retryAfter))
        {
            var seconds = (long)Math.Ceiling(retryAfter.TotalSeconds);
            context.Transaction.Properties[LockedOut] = true;
            if (context.Transaction.GetHttpRequest() is { } request)
            {
                request.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            }

            context.Reject(Errors.InvalidClient, $"Too many failed authentications as this client; try again in {seconds} seconds.");
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask HandleAsync(ProcessErrorContext context)
    {
        if (context.Error == Errors.InvalidClient && !context.Transaction.Properties.ContainsKey(LockedOut)
            && context.Transaction.GetHttpRequest()?.HttpContext is { } http)
        {
            bursts.Failed(http, FailureKind.ClientAuthentication, context.Request?.ClientId);
        }

        return ValueTask.CompletedTask;
    }
}
