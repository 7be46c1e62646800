using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Tessera.Protocol.Handlers;

/// <summary>Oversized protocol parameters (<see cref="ParameterLimits"/>) are refused before any lookup or parsing.</summary>
public sealed class LimitParameterSizes(ParameterLimits limits) : IOpenIddictServerHandler<ProcessRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessRequestContext>()
        .UseSingletonHandler<LimitParameterSizes>()
        .SetOrder(100_500) // after every Extract*Request (100 000), before every Validate*Request (101 000)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public ValueTask HandleAsync(ProcessRequestContext context)
    {
        if (limits.Violation(context.Transaction.Request) is { } problem)
        {
            context.Reject(Errors.InvalidRequest, problem);
        }

        return ValueTask.CompletedTask;
    }
}
