using OpenIddict.Abstractions;
using OpenIddict.Server;
using Tessera.Exchange;
using Tessera.Telemetry;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Tessera.Protocol.Handlers;

/// <summary>
/// Counts token endpoint answers for the metrics operators alert on: tokens issued by grant type, and token exchanges
/// by outcome with the rule that refused one. Runs beside the audit of the same answer and reads only names.
/// </summary>
public sealed class MeasureTokenResponses(TesseraTelemetry telemetry) : IOpenIddictServerHandler<ApplyTokenResponseContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
        .UseSingletonHandler<MeasureTokenResponses>()
        .SetOrder(AuditProtocolResponses.TokenDescriptor.Order + 1)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(ApplyTokenResponseContext context)
    {
        var request = context.Request;
        var failed = !string.IsNullOrEmpty(context.Response.Error);
        if (request?.IsTokenExchangeGrantType() == true)
        {
            var record = ExchangeRecord.Find(context.Transaction);
            telemetry.Exchange(failed ? record?.Rule ?? context.Response.Error : null, record?.Subject?.Source);
        }

        // Only an answer that issued something names a grant type the server accepted; a refused one may name anything.
        if (!failed && request?.GrantType is { Length: > 0 } grantType)
        {
            telemetry.TokenIssued(grantType);
        }

        return ValueTask.CompletedTask;
    }
}
