using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Keys;

/// <summary>
/// The live set of signing and token-encryption keys, loaded from the database and swapped atomically.
/// New keys are published before they sign (pre-publication) and kept after they stop signing until every
/// token they could have protected has expired (retirement).
/// </summary>
public sealed partial class KeyRing(IServiceScopeFactory scopes, TesseraConfiguration configuration, TimeProvider time, ILogger<KeyRing> logger)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile LoadedKeys? _loaded;

    public IReadOnlyList<ManagedKey> Keys => (_loaded ?? throw new InvalidOperationException("The key ring has not been loaded yet.")).Keys;

    public bool IsLoaded => _loaded is not null;

    /// <summary>
    /// The key that signs now for the given algorithm: the most recently activated active key or, when none is active,
    /// the most recently activated one not yet expired. Chosen on every call, since time moves keys through their
    /// states; the credentials object of each key is made once per load, since every token signed needs one.
    /// </summary>
    public SigningCredentials SigningCredentials(string algorithm)
    {
        var now = time.GetUtcNow();
        var loaded = _loaded ?? throw new InvalidOperationException("The key ring has not been loaded yet.");
        var chosen = loaded.Latest(algorithm, now, active: true) ?? loaded.Latest(algorithm, now, active: false)
            ?? throw new InvalidOperationException($"No usable {algorithm} signing key.");
        return loaded.Credentials[chosen];
    }

    /// <summary>One load of the key ring: its keys, and a signing credentials object for each.</summary>
    private sealed class LoadedKeys(IReadOnlyList<ManagedKey> keys)
    {
        public IReadOnlyList<ManagedKey> Keys { get; } = keys;

        public SigningCredentials[] Credentials { get; } = [.. keys.Select(k => new SigningCredentials(k.Key, k.Algorithm))];

        /// <summary>
        /// The index of the signing key for <paramref name="algorithm"/> activated last (the first such in the ring's order
        /// on a tie) among those active at <paramref name="now"/> or, with <paramref name="active"/> false, among those
        /// activated by then and not yet expired.
        /// </summary>
        public int? Latest(string algorithm, DateTimeOffset now, bool active)
        {
            int? latest = null;
            for (var i = 0; i < Keys.Count; i++)
            {
                var key = Keys[i];
                if (key.Use == ManagedKey.Signing && key.Algorithm == algorithm && (active ? key.IsActiveAt(now) : key.ActivatesAt <= now && key.IsUsableAt(now))
                    && (latest is not { } best || key.ActivatesAt > Keys[best].ActivatesAt))
                {
                    latest = i;
                }
            }

            return latest;
        }
    }

    public EncryptingCredentials EncryptingCredentials()
    {
        var now = time.GetUtcNow();
        var key = Keys.Where(k => k.Use == ManagedKey.Encryption && k.ActivatesAt <= now && k.IsUsableAt(now))
                      .OrderByDescending(k => k.ActivatesAt).FirstOrDefault()
                  ?? throw new InvalidOperationException("No usable token-encryption key.");
        return new EncryptingCredentials(key.Key, KeyFactory.EncryptionAlgorithm, SecurityAlgorithms.Aes256CbcHmacSha512);
    }

    /// <summary>Keys that may verify a signature now: everything published and not yet expired.</summary>
    public IEnumerable<SecurityKey> VerificationKeys()
    {
        var now = time.GetUtcNow();
        return Keys.Where(k => k.Use == ManagedKey.Signing && k.IsUsableAt(now)).Select(k => k.Key);
    }

    public IEnumerable<SecurityKey> DecryptionKeys()
    {
        var now = time.GetUtcNow();
        return Keys.Where(k => k.Use == ManagedKey.Encryption && k.IsUsableAt(now)).Select(k => k.Key);
    }

    /// <summary>What the JWKS endpoint publishes: signing keys from creation until expiry.</summary>
    public IEnumerable<ManagedKey> PublishedSigningKeys()
    {
        var now = time.GetUtcNow();
        return Keys.Where(k => k.Use == ManagedKey.Signing && k.IsUsableAt(now)).OrderBy(k => k.CreatedAt);
    }

    /// <summary>
    /// The keys that may verify a signature now, read from the database without creating or rotating any, for a tool
    /// that only checks signatures (<c>tessera audit verify</c>).
    /// </summary>
    public async Task<IReadOnlyList<SecurityKey>> ReadVerificationKeysAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var now = time.GetUtcNow();
        var keys = await ReadAsync(scope.ServiceProvider.GetRequiredService<TesseraDbContext>(), cancellationToken);
        return [.. keys.Where(k => k.Use == ManagedKey.Signing && k.IsUsableAt(now)).Select(k => k.Key)];
    }

    public void EnsureLoaded()
    {
        if (_loaded is null)
        {
            LoadAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    /// <summary>Loads keys, creating the first ones and any successor that is due.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
            await CreateDueKeysAsync(db, RotationMode.IfDue, cancellationToken);
            _loaded = new LoadedKeys(await ReadAsync(db, cancellationToken));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Re-reads the keys, creating none: another node (or the CLI) changed them.</summary>
    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            _loaded = new LoadedKeys(await ReadAsync(scope.ServiceProvider.GetRequiredService<TesseraDbContext>(), cancellationToken));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Whether the keys in the database differ from the loaded ones, by a look at their count and newest creation
    /// (a rotation adds a key; the sweeper removes expired ones), without reading any key material.
    /// </summary>
    public async Task<bool> ChangedAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
        var nowUtc = time.GetUtcNow().UtcDateTime;
        var live = db.Keys.Where(k => k.ExpiresAt > nowUtc);
        var count = await live.CountAsync(cancellationToken);
        var newest = await live.MaxAsync(k => (DateTime?)k.CreatedAt, cancellationToken);
        var loaded = (_loaded?.Keys ?? []).Where(k => k.ExpiresAt.UtcDateTime > nowUtc).ToList();
        return count != loaded.Count
            || (newest is { } at ? Utc(at) : (DateTimeOffset?)null) != (loaded.Count == 0 ? null : loaded.Max(k => k.CreatedAt));
    }

    /// <summary>
    /// Starts a rotation: a successor for every kind is published now; it signs after the pre-publication window
    /// (or at once when <paramref name="immediate"/>), and the current key retires at that moment.
    /// </summary>
    public async Task<IReadOnlyList<ManagedKey>> RotateAsync(bool immediate, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TesseraDbContext>();
            var created = await CreateDueKeysAsync(db, immediate ? RotationMode.Immediate : RotationMode.Planned, cancellationToken);
            _loaded = new LoadedKeys(await ReadAsync(db, cancellationToken));
            return created;
        }
        finally
        {
            _gate.Release();
        }
    }

    private enum RotationMode
    {
        IfDue,
        Planned,
        Immediate,
    }

    /// <summary>
    /// Creates the keys <paramref name="mode"/> makes due. However many nodes look at once, one creates them: on
    /// PostgreSQL an advisory lock, on SQLite the write lock its transaction takes, and the plan is made again under
    /// it from what the one before left. The other nodes hear of the new keys by notification (or their next poll),
    /// well before a planned key signs, since it signs only after the pre-publication window.
    /// </summary>
    private async Task<IReadOnlyList<ManagedKey>> CreateDueKeysAsync(TesseraDbContext db, RotationMode mode, CancellationToken cancellationToken)
    {
        // A look first without a lock: in most minutes nothing is due.
        if (mode == RotationMode.IfDue && (await PlanAsync(db.Keys.AsNoTracking(), mode, cancellationToken)).Count == 0)
        {
            return [];
        }

        var options = configuration.Current;
        var kek = KeyEncryptionKey.Parse(options.Keys.EncryptionKey);
        var retention = RetentionAfterRetirement(options);
        var created = new List<ManagedKey>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (db.Database.IsNpgsql())
        {
            await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_xact_lock({AdvisoryLock})", cancellationToken);
        }

        var nowUtc = time.GetUtcNow().UtcDateTime;
        foreach (var (use, algorithm, activatesAt, existing) in await PlanAsync(db.Keys, mode, cancellationToken))
        {
            foreach (var current in existing.Where(k => k.RetiresAt > activatesAt && k.ActivatesAt < activatesAt))
            {
                current.RetiresAt = activatesAt;
                current.ExpiresAt = activatesAt + retention;
            }

            var id = KeyFactory.NewKeyId();
            var material = KeyFactory.Generate(algorithm);
            var record = new KeyRecord
            {
                Id = id,
                Use = use,
                Algorithm = algorithm,
                ProtectedKey = kek.Protect(material, id),
                CreatedAt = nowUtc,
                ActivatesAt = activatesAt,
                RetiresAt = activatesAt + options.Keys.RotationPeriod,
                ExpiresAt = activatesAt + options.Keys.RotationPeriod + retention,
            };
            db.Keys.Add(record);
            created.Add(ToManaged(record, material));
            LogKeyCreated(use, id, algorithm, activatesAt);
        }

        if (created.Count > 0)
        {
            await db.SaveChangesAsync(cancellationToken);
            if (db.Database.IsNpgsql())
            {
                // Delivered to every listening node when the transaction commits.
                await db.Database.ExecuteSqlRawAsync($"SELECT pg_notify('{ChangeNotifications.KeysChannel}', '')", cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return created;
    }

    private const long AdvisoryLock = 7373209; // the audit writer's is 7373207, the checkpoint writer's 7373208

    /// <summary>For each kind of key, when a successor due under <paramref name="mode"/> would start to sign, with the kind's unexpired keys.</summary>
    private async Task<List<(string Use, string Algorithm, DateTime ActivatesAt, List<KeyRecord> Existing)>> PlanAsync(
        IQueryable<KeyRecord> keys, RotationMode mode, CancellationToken cancellationToken)
    {
        var options = configuration.Current;
        var nowUtc = time.GetUtcNow().UtcDateTime;
        var plan = new List<(string, string, DateTime, List<KeyRecord>)>();
        foreach (var (use, algorithm) in KeyFactory.Kinds)
        {
            var existing = await keys.Where(k => k.Use == use && k.Algorithm == algorithm && k.ExpiresAt > nowUtc)
                .OrderByDescending(k => k.ActivatesAt).ToListAsync(cancellationToken);
            var newest = existing.FirstOrDefault();
            DateTime? activatesAt = newest is null || newest.RetiresAt <= nowUtc
                ? nowUtc // nothing can sign: the first key (or one after a long outage) must work at once
                : mode switch
                {
                    RotationMode.Immediate => nowUtc,
                    RotationMode.Planned when newest.ActivatesAt > nowUtc => null, // a successor is already published and waiting
                    RotationMode.Planned => nowUtc + options.Keys.PrePublication,
                    _ when newest.RetiresAt - options.Keys.PrePublication <= nowUtc => newest.RetiresAt, // published one window ahead
                    _ => null,
                };
            if (activatesAt is { } at)
            {
                plan.Add((use, algorithm, at, existing));
            }
        }

        return plan;
    }

    /// <summary>A retired key stays until every token it protected has expired: the longest token lifetime plus skew.</summary>
    public static TimeSpan RetentionAfterRetirement(TesseraModel options)
    {
        var longest = new[] { options.Tokens.AccessToken, options.Tokens.IdentityToken, options.Tokens.RefreshToken, options.Tokens.AuthorizationCode }
            .Concat(options.Clients.Select(c => c.AccessTokenLifetime ?? TimeSpan.Zero)).Max();
        return longest + TimeSpan.FromMinutes(5);
    }

    private async Task<IReadOnlyList<ManagedKey>> ReadAsync(TesseraDbContext db, CancellationToken cancellationToken)
    {
        var kek = KeyEncryptionKey.Parse(configuration.Current.Keys.EncryptionKey);
        var nowUtc = time.GetUtcNow().UtcDateTime;
        var records = await db.Keys.AsNoTracking().Where(k => k.ExpiresAt > nowUtc).ToListAsync(cancellationToken);
        return records.Select(r => ToManaged(r, kek.Unprotect(r.ProtectedKey, r.Id))).ToList();
    }

    private static ManagedKey ToManaged(KeyRecord record, byte[] material) => new(
        record.Id, record.Use, record.Algorithm, KeyFactory.Load(record.Id, record.Algorithm, material),
        Utc(record.CreatedAt), Utc(record.ActivatesAt), Utc(record.RetiresAt), Utc(record.ExpiresAt));

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Created {Use} key {KeyId} ({Algorithm}), in use from {ActivatesAt:O}")]
    private partial void LogKeyCreated(string use, string keyId, string algorithm, DateTime activatesAt);
}
