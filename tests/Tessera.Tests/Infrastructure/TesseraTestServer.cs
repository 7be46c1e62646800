using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Tessera.Audit;
using Tessera.Hosting;
using Tessera.Keys;
using Tessera.Storage;

namespace Tessera.Tests.Infrastructure;

/// <summary>
/// Tessera composed exactly as <c>tessera serve</c> composes it, on an in-process test server with a fresh
/// database (SQLite, or PostgreSQL when TESSERA_TEST_POSTGRES is set).
/// </summary>
public sealed class TesseraTestServer : IAsyncDisposable
{
    public const string Issuer = "http://localhost";

    private readonly WebApplication _app;
    private readonly TestDatabase _database;
    private bool _ownsDatabase = true;
    private bool _loopback;

    private TesseraTestServer(WebApplication app, TestDatabase database, TesseraOptions options, CapturedLogs logs)
    {
        _app = app;
        _database = database;
        Options = options;
        Logs = logs;
    }

    public TesseraOptions Options { get; }

    /// <summary>Where the server's paths start: the configured issuer with a trailing slash, so relative paths resolve under it.</summary>
    public Uri BaseAddress => new(new TesseraIssuer(Options.Issuer).Url("/"));

    public CapturedLogs Logs { get; }

    public IServiceProvider Services => _app.Services;

    public TestServer Server => _app.GetTestServer();

    public bool IsPostgres => _database.IsPostgres;

    /// <param name="keepDatabase">Leave the database to the caller on dispose (a second node on it, or a restart).</param>
    /// <param name="loopback">Serve on Kestrel at a free loopback port instead of the in-process test server (for what only a real HTTP server does: header and framing limits).</param>
    /// <param name="services">Last changes to the composition, for what a test must stand in for (a DNS answer, a peer's certificate).</param>
    public static async Task<TesseraTestServer> StartAsync(Action<TesseraOptions>? configure = null, TimeProvider? time = null, string? configFile = null, TestDatabase? database = null, bool keepDatabase = false, bool loopback = false, Action<IServiceCollection>? services = null)
    {
        database ??= await TestDatabase.CreateAsync();
        var options = TestConfiguration.Create(database.Storage);
        configure?.Invoke(options);
        TesseraOptionsDefaults.Apply(options);
        var builder = TesseraApp.CreateBuilder(TestModel.Compile(options), configFile);
        if (loopback)
        {
            // An issuer on a loopback port (LoopbackIssuer) is listened on, so what discovery names can be fetched.
            var issuer = new Uri(options.Issuer);
            builder.WebHost.UseUrls(issuer.IsLoopback && !issuer.IsDefaultPort ? issuer.GetLeftPart(UriPartial.Authority) : "http://127.0.0.1:0");
        }
        else
        {
            builder.WebHost.UseTestServer();
        }

        var logs = new CapturedLogs();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        if (time is not null)
        {
            builder.Services.Replace(ServiceDescriptor.Singleton(time));
        }

        services?.Invoke(builder.Services);

        var app = TesseraApp.Build(builder);
        await app.StartAsync();
        return new TesseraTestServer(app, database, options, logs) { _ownsDatabase = !keepDatabase, _loopback = loopback };
    }

    /// <summary>An issuer on a free loopback port: a server started with it and <c>loopback</c> serves there, so that outside
    /// clients (a command-line verb, an HTTP client) reach every URL discovery names.</summary>
    public static string LoopbackIssuer()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return $"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}";
    }

    /// <summary>Where a server started with <c>loopback</c> listens.</summary>
    public Uri LoopbackAddress => new(_app.Urls.First());

    public HttpClient CreateClient()
    {
        if (_loopback)
        {
            return new HttpClient { BaseAddress = new Uri(LoopbackAddress, BaseAddress.AbsolutePath) };
        }

        var client = Server.CreateClient();
        client.BaseAddress = BaseAddress;
        return client;
    }

    public Browser CreateBrowser(Action<Microsoft.AspNetCore.Http.HttpContext>? connection = null) => new(Server, BaseAddress, connection);

    /// <summary>The issuer as the discovery document names it: what a strict client checks every token against.</summary>
    public async Task<string> DiscoveredIssuerAsync()
    {
        using var http = CreateClient();
        using var discovery = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(".well-known/openid-configuration"));
        return discovery.RootElement.GetProperty("issuer").GetString()!;
    }

    public T Service<T>() where T : notnull => _app.Services.GetRequiredService<T>();

    public async Task<TResult> WithDbAsync<TResult>(Func<TesseraDbContext, Task<TResult>> action)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<TesseraDbContext>());
    }

    public async Task<List<AuditRecord>> AuditAsync()
    {
        await Service<AuditLog>().FlushAsync();
        return await WithDbAsync(db => db.AuditEvents.AsNoTracking().OrderBy(a => a.Id).ToListAsync());
    }

    /// <summary>The audit log once <paramref name="until"/> holds of it (what background work records comes a moment later), or after 10 s.</summary>
    public async Task<List<AuditRecord>> AuditAsync(Func<List<AuditRecord>, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var audit = await AuditAsync();
        while (!until(audit) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            audit = await AuditAsync();
        }

        return audit;
    }

    public KeyRing Keys => Service<KeyRing>();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownsDatabase)
        {
            await _database.DisposeAsync();
        }
    }
}

/// <summary>Everything the server logged at the levels its configuration lets through.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}[{eventId.Id}] {formatter(state, exception)} {exception}");
    }
}
