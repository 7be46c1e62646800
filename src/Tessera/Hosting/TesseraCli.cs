using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Tessera.Audit;
using Tessera.Directory;
using Tessera.Keys;
using Tessera.Protocol;
using Tessera.Sessions;
using Tessera.Storage;
using Tessera.Telemetry;

namespace Tessera.Hosting;

/// <summary><c>tessera serve | demo | migrate | config validate | keys list|rotate | scim token create|list|revoke | audit verify|export|list | users disable|enable | sessions end | secret new</c>.</summary>
public static class TesseraCli
{
    public const int ConfigurationRefused = 2;

    public static Task<int> InvokeAsync(string[] args) => CreateRootCommand().Parse(args).InvokeAsync();

    public static RootCommand CreateRootCommand()
    {
        var configOption = new Option<string>("--config", "-c") { Description = "Configuration file (JSON).", DefaultValueFactory = _ => "tessera.json" };
        var urlsOption = new Option<string?>("--urls") { Description = "Addresses to listen on, e.g. http://127.0.0.1:5080 (default: ASPNETCORE_URLS)." };
        var noMigrateOption = new Option<bool>("--no-migrate") { Description = "Do not apply pending database migrations at start; refuse to start if any are pending." };

        var serve = new Command("serve", "Run Tessera with a configuration file.") { configOption, urlsOption, noMigrateOption };
        serve.SetAction((result, cancellationToken) => ServeAsync(result.GetValue(configOption)!, result.GetValue(urlsOption), result.GetValue(noMigrateOption), cancellationToken));

        var demoUrls = new Option<string>("--urls") { Description = "Where the demo listens (a loopback address).", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var demoData = new Option<string>("--data") { Description = "Folder for the demo's SQLite database and key.", DefaultValueFactory = _ => "data" };
        var demo = new Command("demo", "Run a self-contained demo: Tessera on SQLite, a mock identity provider and a sample app (development only).") { demoUrls, demoData };
        demo.SetAction((result, cancellationToken) => DemoAsync(result.GetValue(demoUrls)!, result.GetValue(demoData)!, cancellationToken));

        var migrate = new Command("migrate", "Apply pending database migrations and exit.") { configOption };
        migrate.SetAction((result, cancellationToken) => MigrateAsync(result.GetValue(configOption)!, cancellationToken));

        var fileArgument = new Argument<string>("file") { Description = "Configuration file to check." };
        var validate = new Command("validate", "Check a configuration file without starting anything.") { fileArgument };
        validate.SetAction(result => Validate(result.GetValue(fileArgument)!));
        var config = new Command("config", "Configuration commands.") { validate };

        var list = new Command("list", "List signing and encryption keys and their state.") { configOption };
        list.SetAction((result, cancellationToken) => ListKeysAsync(result.GetValue(configOption)!, cancellationToken));
        var immediateOption = new Option<bool>("--immediate") { Description = "Sign with the new keys at once (after a compromise) instead of after the pre-publication window." };
        var rotate = new Command("rotate", "Start a key rotation: publish successors now, sign with them after the pre-publication window.") { configOption, immediateOption };
        rotate.SetAction((result, cancellationToken) => RotateKeysAsync(result.GetValue(configOption)!, result.GetValue(immediateOption), cancellationToken));
        var keys = new Command("keys", "Signing key commands.") { list, rotate };

        var kindOption = new Option<string>("--kind") { Description = "client (a client secret) or kek (a key-encryption key).", DefaultValueFactory = _ => "client" };
        kindOption.AcceptOnlyFromAmong("client", "kek");
        var newSecret = new Command("new", "Print a new random secret.") { kindOption };
        newSecret.SetAction(result =>
        {
            Console.WriteLine(result.GetValue(kindOption) == "kek" ? KeyEncryptionKey.Generate() : ClientSecretHasher.Generate());
            return 0;
        });
        var secret = new Command("secret", "Secret generation.") { newSecret };

        var root = new RootCommand("Tessera: an OpenID Connect provider that brokers sign-in to each organization's identity provider.")
        {
            serve, demo, migrate, config, keys, ScimTokenCommands.Create(configOption), AuditCommands.Create(configOption), Credentials.CredentialCommands.Create(configOption), secret, configOption, urlsOption, noMigrateOption,
        };
        foreach (var command in AccessCommands.Create(configOption))
        {
            root.Subcommands.Add(command);
        }

        root.SetAction((result, cancellationToken) => ServeAsync(result.GetValue(configOption)!, result.GetValue(urlsOption), result.GetValue(noMigrateOption), cancellationToken));
        return root;
    }

    private static async Task<int> ServeAsync(string configFile, string? urls, bool noMigrate, CancellationToken cancellationToken)
    {
        var model = LoadOrReport(configFile, options => options.Storage.ApplyMigrations &= !noMigrate);
        if (model is null)
        {
            return ConfigurationRefused;
        }

        var builder = TesseraApp.CreateBuilder(model, configFile);
        if (!string.IsNullOrEmpty(urls))
        {
            builder.WebHost.UseUrls(urls);
        }

        await using var app = TesseraApp.Build(builder);
        StartupMemory.CompactAfterStart(app.Lifetime, app.Logger);
        await app.RunAsync(cancellationToken);
        return 0;
    }

    private static async Task<int> DemoAsync(string urls, string dataDirectory, CancellationToken cancellationToken)
    {
        var first = urls.Split(';', StringSplitOptions.RemoveEmptyEntries)[0];
        if (!Uri.TryCreate(first, UriKind.Absolute, out var address) || !address.IsLoopback || address.Port == 0)
        {
            await Console.Error.WriteLineAsync("The demo listens on a loopback address with a fixed port only, e.g. --urls http://127.0.0.1:5080");
            return ConfigurationRefused;
        }

        var issuer = address.GetLeftPart(UriPartial.Authority);
        var builder = TesseraApp.CreateBuilder(DemoConfiguration.Create(issuer, dataDirectory), configFile: null);
        builder.WebHost.UseUrls(first);
        await using var app = TesseraApp.Build(builder);
        await app.StartAsync(cancellationToken);
        Console.WriteLine();
        Console.WriteLine("  Tessera demo (development only: the identity provider inside it lets anyone sign in)");
        Console.WriteLine($"  Open {issuer}/demo and sign in as alice@demo.example or bob@demo.example.");
        Console.WriteLine($"  Discovery: {issuer}/.well-known/openid-configuration   Stop with Ctrl+C.");
        Console.WriteLine();
        await app.WaitForShutdownAsync(cancellationToken);
        return 0;
    }

    private static int Validate(string file)
    {
        var options = LoadOrReport(file);
        if (options is null)
        {
            return ConfigurationRefused;
        }

        Console.WriteLine($"{file}: valid ({options.Clients.Count} clients, {options.Organizations.Count} organizations, {options.Organizations.Sum(o => o.Connections.Count)} connections)");
        return 0;
    }

    private static Task<int> MigrateAsync(string configFile, CancellationToken cancellationToken) =>
        WithStorageAsync(configFile, migrate: true, _ =>
        {
            Console.WriteLine("The database schema is up to date.");
            return Task.FromResult(0);
        }, cancellationToken);

    private static Task<int> ListKeysAsync(string configFile, CancellationToken cancellationToken) =>
        WithStorageAsync(configFile, migrate: false, async services =>
        {
            var ring = services.GetRequiredService<KeyRing>();
            await ring.LoadAsync(cancellationToken);
            var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
            Console.WriteLine($"{"KID",-18} {"USE",-4} {"ALG",-6} {"STATE",-10} {"SIGNS FROM",-26} {"RETIRES",-26} {"LEAVES JWKS",-26}");
            foreach (var key in ring.Keys.OrderBy(k => k.Use).ThenBy(k => k.Algorithm).ThenBy(k => k.ActivatesAt))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{key.Id,-18} {key.Use,-4} {key.Algorithm,-6} {key.StateAt(now),-10} {key.ActivatesAt,-26:u} {key.RetiresAt,-26:u} {key.ExpiresAt,-26:u}"));
            }

            return 0;
        }, cancellationToken);

    private static Task<int> RotateKeysAsync(string configFile, bool immediate, CancellationToken cancellationToken) =>
        WithStorageAsync(configFile, migrate: false, async services =>
        {
            var ring = services.GetRequiredService<KeyRing>();
            await ring.LoadAsync(cancellationToken);
            var created = await ring.RotateAsync(immediate, cancellationToken);
            foreach (var key in created)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"published {key.Use} key {key.Id} ({key.Algorithm}); signs from {key.ActivatesAt:u}"));
            }

            if (created.Count == 0)
            {
                Console.WriteLine("A rotation is already under way: the successors are published and waiting.");
            }

            return 0;
        }, cancellationToken);

    /// <summary>Runs a maintenance command against the configured database, migrated first or checked to be current.</summary>
    internal static async Task<int> WithStorageAsync(string configFile, bool migrate, Func<IServiceProvider, Task<int>> command, CancellationToken cancellationToken)
    {
        var options = LoadOrReport(configFile);
        if (options is null)
        {
            return ConfigurationRefused;
        }

        using var host = BuildToolHost(options, configFile);
        var storage = host.Services.GetRequiredService<StorageInitializer>();
        if (migrate)
        {
            await storage.MigrateAsync(cancellationToken);
        }
        else if ((await storage.PendingMigrationsAsync(cancellationToken)).Count > 0)
        {
            await Console.Error.WriteLineAsync($"The database schema is out of date: run 'tessera migrate --config {configFile}' first.");
            return 1;
        }

        // What the server runs with: the file and the managed configuration (a managed client's back-channel logout, say).
        var managed = await host.Services.GetRequiredService<ManagedConfigurationStore>().LoadAsync(cancellationToken);
        var compiled = ConfigurationCompiler.Compile(options.File, managed, forServe: true, configFile);
        if (compiled.Succeeded)
        {
            host.Services.GetRequiredService<TesseraConfiguration>().Replace(compiled.Model!);
        }

        return await command(host.Services);
    }

    /// <summary>Storage, keys and SCIM tokens without a web server, for the maintenance commands.</summary>
    private static IHost BuildToolHost(TesseraModel options, string configFile)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Services.AddSingleton(new TesseraConfiguration(options, configFile));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddTesseraStorage(options.Storage);
        builder.Services.AddSingleton(KeyEncryptionKey.Parse(options.Keys.EncryptionKey));
        builder.Services.AddSingleton<ManagedResourceCodec>();
        builder.Services.AddSingleton<ManagedConfigurationStore>();
        builder.Services.AddSingleton<KeyRing>();
        builder.Services.AddScoped<ScimTokens>();

        // What the operator's access commands need: the revocation service, its outbox and the audit log.
        builder.Services.AddOpenIddict().AddCore(core => core.UseEntityFrameworkCore().UseDbContext<TesseraDbContext>());
        builder.Services.AddTesseraInstruments();
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddScoped<RevocationService>();
        builder.Services.AddSingleton<ClientRegistry>();
        builder.Services.AddScoped<Signals.SignalOutbox>();
        builder.Services.AddSingleton(options.Issuer);
        builder.Services.AddScoped<Credentials.CredentialOffers>();
        return builder.Build();
    }

    /// <param name="adjust">What the command line changes in the file's settings, before they are compiled.</param>
    private static TesseraModel? LoadOrReport(string file, Action<TesseraOptions>? adjust = null)
    {
        var loaded = ConfigurationLoader.LoadFile(file);
        var result = new CompiledConfiguration(null, loaded.Errors, file);
        if (loaded.Succeeded)
        {
            adjust?.Invoke(loaded.Options!);
            result = ConfigurationCompiler.Compile(loaded.Options!, forServe: true, file);
            if (result.Succeeded)
            {
                return result.Model;
            }
        }

        Console.Error.WriteLine($"{file}: configuration refused ({result.Errors.Count} error{(result.Errors.Count == 1 ? "" : "s")}); nothing was started");
        foreach (var error in result.Errors)
        {
            Console.Error.WriteLine(error.Format(file));
        }

        return null;
    }
}
