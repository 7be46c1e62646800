using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Tessera.Protocol;

/// <summary>
/// Dispatches OpenIddict events the way OpenIddict's own dispatcher does (same handlers, same order, same filters,
/// same stop conditions), but finds an event's handlers in an index built once per event type instead of scanning
/// every registered handler (several hundred) on each of the thirty-odd events of a request. Profiling the token
/// endpoint put that scan at about a fifth of the CPU per request.
/// </summary>
public sealed class IndexedServerDispatcher(IOptionsMonitor<OpenIddictServerOptions> options, IServiceProvider provider, ServerHandlerIndex index)
    : IOpenIddictServerDispatcher
{
    public async ValueTask DispatchAsync<TContext>(TContext context) where TContext : BaseContext
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach (var descriptor in index.For<TContext>(options.CurrentValue.Handlers))
        {
            if (!await IsActiveAsync(descriptor, context))
            {
                continue;
            }

            var handler = descriptor.ServiceDescriptor.ImplementationInstance as IOpenIddictServerHandler<TContext>
                ?? provider.GetService(descriptor.ServiceDescriptor.ServiceType) as IOpenIddictServerHandler<TContext>
                ?? throw new InvalidOperationException($"The handler {descriptor.ServiceDescriptor.ServiceType} is not registered.");
            await handler.HandleAsync(context);

            if (context is BaseRequestContext { IsRequestHandled: true } or BaseRequestContext { IsRequestSkipped: true } or BaseValidatingContext { IsRejected: true })
            {
                return;
            }
        }
    }

    private async ValueTask<bool> IsActiveAsync<TContext>(OpenIddictServerHandlerDescriptor descriptor, TContext context) where TContext : BaseContext
    {
        foreach (var type in descriptor.FilterTypes)
        {
            var filter = provider.GetService(type) as IOpenIddictServerHandlerFilter<TContext>
                ?? throw new InvalidOperationException($"The handler filter {type} is not registered.");
            if (!await filter.IsActiveAsync(context))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>The registered handlers grouped by event type, in registration order; rebuilt if the list changes.</summary>
public sealed class ServerHandlerIndex
{
    private readonly ConcurrentDictionary<Type, Entry> _entries = new();

    private sealed record Entry(List<OpenIddictServerHandlerDescriptor> Source, int Count, OpenIddictServerHandlerDescriptor[] Descriptors);

    public OpenIddictServerHandlerDescriptor[] For<TContext>(List<OpenIddictServerHandlerDescriptor> handlers)
    {
        if (_entries.TryGetValue(typeof(TContext), out var entry) && ReferenceEquals(entry.Source, handlers) && entry.Count == handlers.Count)
        {
            return entry.Descriptors;
        }

        entry = new Entry(handlers, handlers.Count, handlers.Where(d => d.ContextType == typeof(TContext)).ToArray());
        _entries[typeof(TContext)] = entry;
        return entry.Descriptors;
    }
}
