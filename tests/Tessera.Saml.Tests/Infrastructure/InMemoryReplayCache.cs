using System.Collections.Concurrent;
using Tessera.Saml;

namespace Tessera.Saml.Tests.Infrastructure;

public sealed class InMemoryReplayCache : ISamlReplayCache
{
    private readonly ConcurrentDictionary<(string, string), DateTimeOffset> _seen = new();

    public ValueTask<bool> TryRecordAsync(string issuer, string assertionId, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_seen.TryAdd((issuer, assertionId), expiresAt));
}
