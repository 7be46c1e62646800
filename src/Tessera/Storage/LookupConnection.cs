using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Tessera.Storage;

/// <summary>
/// Connections for plain SQL lookups on a hot path (token exchange reads whether its user is disabled on every
/// request). On SQLite they are connections of Tessera's own, kept open with their statements prepared: compiling
/// the SQL cost more than running it, and a connection opened through EF re-registers EF's SQL functions with SQLite
/// on every open. A kept connection holds no read transaction between lookups (each reader is disposed before the
/// connection goes back), so every lookup sees the latest commit, whichever process made it. Elsewhere the lookup
/// runs on the context's own connection, opened for it if it was closed, and the provider pools the rest.
/// </summary>
public sealed class LookupConnections : IAsyncDisposable
{
    private readonly ConcurrentBag<LookupConnection> _idle = [];
    private readonly int _keep = Math.Max(4, 2 * Environment.ProcessorCount);
    private int _idleCount;
    private volatile bool _disposed;

    public async ValueTask<LookupConnection> OpenAsync(TesseraDbContext db, CancellationToken cancellationToken)
    {
        if (db is not SqliteTesseraDbContext)
        {
            var shared = db.Database.GetDbConnection();
            var closed = shared.State != ConnectionState.Open;
            if (closed)
            {
                await shared.OpenAsync(cancellationToken);
            }

            return new LookupConnection(this, shared, kept: false, close: closed);
        }

        if (_idle.TryTake(out var idle))
        {
            Interlocked.Decrement(ref _idleCount);
            return idle;
        }

        var own = new SqliteConnection(db.Database.GetConnectionString());
        await own.OpenAsync(cancellationToken);
        return new LookupConnection(this, own, kept: true, close: true);
    }

    internal async ValueTask ReturnAsync(LookupConnection lookup)
    {
        if (Interlocked.Increment(ref _idleCount) > _keep || _disposed)
        {
            Interlocked.Decrement(ref _idleCount);
            await lookup.CloseAsync();
            return;
        }

        _idle.Add(lookup);
        if (_disposed)
        {
            // Disposed while this was being given back: close what the disposal may have missed.
            await DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        while (_idle.TryTake(out var lookup))
        {
            await lookup.CloseAsync();
        }
    }
}

/// <summary>One lookup's connection, from <see cref="LookupConnections"/>; disposing it gives it back.</summary>
public sealed class LookupConnection : IAsyncDisposable
{
    private readonly LookupConnections _owner;
    private readonly bool _kept;
    private readonly bool _close;
    private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);

    internal LookupConnection(LookupConnections owner, DbConnection connection, bool kept, bool close)
    {
        _owner = owner;
        Connection = connection;
        _kept = kept;
        _close = close;
    }

    public DbConnection Connection { get; }

    /// <summary>A Guid as the store keeps it: EF Core writes it to SQLite as upper-case text.</summary>
    public object Guid(System.Guid value) => Connection is SqliteConnection ? value.ToString().ToUpperInvariant() : value;

    /// <summary>
    /// The command for <paramref name="sql"/> with the named parameters, in that order (set their values by index).
    /// On a kept connection it is made and prepared once and reused by every later lookup.
    /// </summary>
    public DbCommand Command(string sql, params ReadOnlySpan<string> parameters)
    {
        if (_commands.TryGetValue(sql, out var command))
        {
            return command;
        }

        command = Connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            command.Parameters.Add(parameter);
        }

        if (_kept)
        {
            command.Prepare();
        }

        _commands[sql] = command;
        return command;
    }

    public async ValueTask DisposeAsync()
    {
        if (_kept)
        {
            await _owner.ReturnAsync(this);
            return;
        }

        await CloseAsync();
    }

    internal async ValueTask CloseAsync()
    {
        foreach (var command in _commands.Values)
        {
            await command.DisposeAsync();
        }

        _commands.Clear();
        if (_close)
        {
            await Connection.CloseAsync();
        }

        if (_kept)
        {
            await Connection.DisposeAsync();
        }
    }
}
