using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;
using OpenIddict.EntityFrameworkCore.Models;

namespace Tessera.Protocol;

/// <summary>
/// OpenIddict's application manager with the two costs of a token request removed: applications come from a
/// process-wide cache instead of a query per request, and generated high-entropy secrets use a fast hash.
/// </summary>
public sealed class TesseraApplicationManager(
    IOpenIddictApplicationCache<OpenIddictEntityFrameworkCoreApplication> cache,
    ILogger<OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options,
    IOpenIddictApplicationStore<OpenIddictEntityFrameworkCoreApplication> store,
    ApplicationCache applications,
    VerifiedSecretCache verifiedSecrets,
    Hosting.TesseraConfiguration configuration,
    TimeProvider time)
    : OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication>(cache, logger, options, store)
{
    public override async ValueTask<OpenIddictEntityFrameworkCoreApplication?> FindByClientIdAsync(string identifier, CancellationToken cancellationToken = default)
    {
        if (applications.TryGetByClientId(identifier, out var cached))
        {
            return cached;
        }

        // A registration rewritten while this read was under way clears the cache; the read is then not kept.
        var generation = applications.Generation;
        var application = await base.FindByClientIdAsync(identifier, cancellationToken);
        if (application is not null)
        {
            applications.Add(application, generation);
        }

        return application;
    }

    public override async ValueTask<OpenIddictEntityFrameworkCoreApplication?> FindByIdAsync(string identifier, CancellationToken cancellationToken = default)
    {
        if (applications.TryGetById(identifier, out var cached))
        {
            return cached;
        }

        var generation = applications.Generation;
        var application = await base.FindByIdAsync(identifier, cancellationToken);
        if (application is not null)
        {
            applications.Add(application, generation);
        }

        return application;
    }

    /// <summary>
    /// A managed client's secret is known only by its hash, which reaches the store as it is; the configuration
    /// compiler refuses a file secret that looks like one.
    /// </summary>
    protected override ValueTask<string> ObfuscateClientSecretAsync(string secret, CancellationToken cancellationToken = default) =>
        ClientSecretHasher.IsFastHashFormat(secret) ? ValueTask.FromResult(secret)
        : ClientSecretHasher.IsGenerated(secret) ? ValueTask.FromResult(ClientSecretHasher.FastHash(secret))
        : base.ObfuscateClientSecretAsync(secret, cancellationToken);

    /// <summary>The stored secret, or during a rotation's overlap a managed client's previous secret until it expires.</summary>
    public override async ValueTask<bool> ValidateClientSecretAsync(OpenIddictEntityFrameworkCoreApplication application, string secret, CancellationToken cancellationToken = default)
    {
        if (await base.ValidateClientSecretAsync(application, secret, cancellationToken))
        {
            return true;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var previous = application.ClientId is null ? [] : configuration.Current.ClientSecrets(application.ClientId);
        return previous.Skip(1).Any(s => s.ExpiresAt > now && ClientSecretHasher.VerifyFastHash(secret, s.Hash));
    }

    protected override async ValueTask<bool> ValidateClientSecretAsync(string secret, string comparand, CancellationToken cancellationToken = default)
    {
        if (ClientSecretHasher.IsFastHash(comparand))
        {
            return ClientSecretHasher.VerifyFastHash(secret, comparand);
        }

        // A slow hash is checked once per (secret, stored hash) and the success remembered in memory.
        var key = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(secret + "\n" + comparand)));
        if (verifiedSecrets.Contains(key))
        {
            return true;
        }

        var valid = await base.ValidateClientSecretAsync(secret, comparand, cancellationToken);
        if (valid)
        {
            verifiedSecrets.Add(key);
        }

        return valid;
    }
}

/// <summary>Digests of (secret, stored hash) pairs that verified; bounded so it cannot grow without limit.</summary>
public sealed class VerifiedSecretCache
{
    private const int Capacity = 1024;
    private readonly ConcurrentDictionary<string, byte> _entries = new(StringComparer.Ordinal);

    public bool Contains(string key) => _entries.ContainsKey(key);

    public void Add(string key)
    {
        if (_entries.Count >= Capacity)
        {
            _entries.Clear();
        }

        _entries[key] = 0;
    }

    public void Clear() => _entries.Clear();
}
