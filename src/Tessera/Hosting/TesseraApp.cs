using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.Features;
using Tessera.Admin;
using Tessera.Audit;
using Tessera.Credentials;
using Tessera.Directory;
using Tessera.Federation;
using Tessera.Federation.Development;
using Tessera.Identity;
using Tessera.Keys;
using Tessera.Protocol;
using Tessera.Risk;
using Tessera.Sessions;
using Tessera.Signals;
using Tessera.Storage;
using Tessera.Telemetry;

namespace Tessera.Hosting;

/// <summary>The composition of the server: which capabilities exist and in which order requests meet them.</summary>
public static class TesseraApp
{
    public static WebApplicationBuilder CreateBuilder(TesseraModel options, string? configFile, string[]? args = null)
    {
        OidcMetadataCache.UseBlockingRefresh();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args ?? [],
            ContentRootPath = AppContext.BaseDirectory,
            // Pages live in this assembly; name it so they are found even when another assembly is the entry point (tests).
            ApplicationName = typeof(TesseraApp).Assembly.GetName().Name,
        });
        ConfigureLogging(builder.Logging);

        var services = builder.Services;
        services.AddSingleton(new TesseraConfiguration(options, configFile));
        services.AddSingleton(options.Issuer); // restart-only: a reload that changes it is refused
        services.AddSingleton(options.RequestLimits); // restart-only too
        services.AddSingleton(TimeProvider.System);
        services.AddTesseraTelemetry(builder.Configuration, options.Telemetry, options.Storage.Provider);
        services.AddTesseraHealthChecks();

        services.AddTesseraStorage(options.Storage);
        services.AddHostedService<StartupTasks>(); // first: everything below expects a migrated database

        services.AddSingleton<AuditLog>();
        services.AddHostedService(provider => provider.GetRequiredService<AuditLog>());
        services.AddSingleton<AuditCheckpointWriter>();
        services.AddHostedService(provider => provider.GetRequiredService<AuditCheckpointWriter>());
        services.AddSingleton<AuditStreams>();
        services.AddHostedService(provider => provider.GetRequiredService<AuditStreams>());
        AddPushClient(services, AuditStreams.HttpClientName); // each batch has its own deadline (Audit.Streams[].Timeout)
        services.AddSingleton<AuditRetention>();

        services.AddSingleton<KeyRing>();
        services.AddHostedService<KeyRotationService>();
        services.AddHostedService<ExpiredRecordSweeper>();
        services.AddSingleton<ManagedResourceCodec>();
        services.AddSingleton<ManagedConfigurationStore>();
        services.AddSingleton<ChangeNotifications>();
        services.AddHostedService(provider => provider.GetRequiredService<ChangeNotifications>());
        services.AddSingleton<ConfigurationWatcher>();
        services.AddHostedService(provider => provider.GetRequiredService<ConfigurationWatcher>());

        services.AddScoped<IdentityResolver>();
        services.AddSingleton<IdentityLinks>();
        services.AddScoped<SessionStore>();
        services.AddScoped<RevocationService>();
        services.AddScoped<Signals.SignalOutbox>();
        services.AddScoped<Signals.SignalPolling>();
        services.AddSingleton<Signals.SignalTokens>();
        services.AddSingleton<Signals.SignalDispatcher>();
        services.AddHostedService(provider => provider.GetRequiredService<Signals.SignalDispatcher>());
        AddPushClient(services, Signals.SignalDispatcher.HttpClientName); // each delivery has its own deadline (Signals.DeliveryTimeout)
        services.AddSingleton<BrowserCookies>();

        services.AddScoped<Directory.ScimTokens>();
        services.AddScoped<Directory.ScimAudit>();
        services.AddScoped<Directory.ScimUsers>();
        services.AddScoped<Directory.ScimGroups>();
        services.AddScoped<Directory.ScimLists>();
        services.AddScoped<ProvisionedUsers>();
        services.AddScoped<DirectoryGrants>();

        services.AddSingleton<ConnectionDirectory>();
        services.AddSingleton<HomeRealmDiscovery>();
        services.AddSingleton<OidcMetadataCache>();
        services.AddSingleton<IConnector, OidcConnector>();
        services.AddSingleton<SamlIdentityProviders>();
        services.AddSingleton<Exchange.IssuerKeyCache>();
        services.AddSingleton<Exchange.IssuerDiscovery>();
        services.AddSingleton<Exchange.ForeignTokenValidator>();
        services.AddSingleton<Exchange.ExchangeDirectory>();
        services.AddSingleton(provider => new Saml.SamlResponseValidator(provider.GetRequiredService<TimeProvider>()));
        services.AddScoped<DatabaseSamlReplayCache>();
        services.AddScoped<SamlConnector>();
        services.AddScoped<IConnector>(provider => provider.GetRequiredService<SamlConnector>());
        services.AddScoped<UpstreamSignIn>();
        services.AddScoped<ConnectionTestResults>();
        services.AddScoped<TestSignIns>();
        services.AddSingleton<Risk.GeoDatabase>();
        services.AddSingleton<Risk.IGeoLocator>(provider => provider.GetRequiredService<Risk.GeoDatabase>());
        services.AddSingleton<Risk.RequestLocator>();
        services.AddScoped<Risk.AnomalyResponse>();
        services.AddSingleton<Risk.FailureBursts>();
        services.AddHostedService(provider => provider.GetRequiredService<Risk.FailureBursts>());
        services.AddTesseraTrustedProxies(options.Network); // restart-only: the middleware reads its options once
        services.AddScoped<Pages.Portal.PortalConnections>();
        services.AddScoped<SignInRouter>();
        services.AddScoped<UserPrincipalFactory>();
        services.AddSingleton(new UpstreamHostResolver(System.Net.Dns.GetHostAddressesAsync));
        services.AddSingleton<UpstreamConnectionGuard>();
        services.AddHttpClient(OidcMetadataCache.HttpClientName, client =>
            {
                client.Timeout = TimeSpan.FromSeconds(10);
                client.MaxResponseContentBufferSize = 1024 * 1024;
                client.DefaultRequestHeaders.UserAgent.ParseAdd("Tessera");
            })
            .ConfigurePrimaryHttpMessageHandler(provider => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                // The guard connects, to an address it checked; through a proxy the address reached would go unchecked.
                UseProxy = false,
                ConnectCallback = provider.GetRequiredService<UpstreamConnectionGuard>().ConnectAsync,
            });

        services.AddTesseraCredentials();
        services.AddTesseraProtocol(options);
        services.AddTesseraAdmin();

        var keyEncryptionKey = KeyEncryptionKey.Parse(options.Keys.EncryptionKey);
        services.AddDataProtection()
            .SetApplicationName("Tessera")
            .PersistKeysToDbContext<TesseraDbContext>();
        services.Configure<Microsoft.AspNetCore.DataProtection.KeyManagement.KeyManagementOptions>(o => o.XmlEncryptor = new KeyEncryptionKeyXmlEncryptor(keyEncryptionKey));
        services.AddSingleton(keyEncryptionKey);

        // BoundedForms reads every form within its endpoint's limit before anything else can; these only bound the
        // framework's own reader should anything reach it, and the server's ceiling is the largest endpoint limit.
        var largestBody = options.RequestLimits.MaxBodyBytes.All().Max();
        services.Configure<FormOptions>(form =>
        {
            form.ValueLengthLimit = largestBody;
            form.KeyLengthLimit = 1024;
            form.ValueCountLimit = options.RequestLimits.MaxParameters;
            form.MultipartBodyLengthLimit = largestBody;
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = largestBody;
        });

        services.AddRazorPages(pages => Pages.UpstreamCallbackModel.MapRoutes(pages.Conventions));
        services.AddSingleton<Pages.Demo.DemoClient>();
        services.AddSingleton<Pages.Demo.DemoWallet>();
        services.AddSingleton<Pages.Demo.DemoWalletPresenter>();
        services.AddSingleton<Pages.Demo.DemoAgeCheck>();
        services.AddAntiforgery(antiforgery => antiforgery.Cookie.Name = "tessera.antiforgery");

        if (options.Development.Demo)
        {
            services.AddSingleton<MockIdentityProvider>();
        }

        return builder;
    }

    public static WebApplication Build(WebApplicationBuilder builder)
    {
        var app = builder.Build();
        var options = app.Services.GetRequiredService<TesseraConfiguration>().Current;
        var issuer = app.Services.GetRequiredService<TesseraIssuer>();

        // An issuer with a path (https://login.example.com/tenant-a) is served under that path, so every endpoint
        // OpenIddict advertises, every page and every redirect carries it.
        if (issuer.PathBase.Length > 0)
        {
            app.UsePathBase(issuer.PathBase);
        }

        app.UseTesseraTrustedProxies(); // first: everything after sees the client's address, not the proxy's
        app.UseExceptionHandler("/error");
        app.UseStorageOutageAnswers(); // inside the handler: a database outage is a 503 with Retry-After, not an error page
        app.Use(SecurityHeaders);
        app.UseLockedOutAddresses(); // before any work is done for a request from a locked-out address
        app.UseMiddleware<BoundedForms>();
        app.UseMiddleware<LeanTokenPath>(); // answers only what would succeed; everything else goes on to OpenIddict
        app.UseAdminStatusProblems();
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapRazorPages();
        app.MapHealth();
        app.MapSamlMetadata();
        app.MapScim();
        app.MapSignals();
        app.MapAuditCheckpoints();
        app.MapAdmin();
        app.MapCredentialIssuer();
        app.MapPresentationVerifier();

        if (options.Development.Demo)
        {
            app.MapMockIdentityProvider();
        }

        return app;
    }

    /// <summary>A client that posts to destinations the platform configured: no redirects, and no timeout of its own (each send sets one).</summary>
    private static void AddPushClient(IServiceCollection services, string name) =>
        services.AddHttpClient(name, client =>
            {
                client.Timeout = Timeout.InfiniteTimeSpan;
                client.DefaultRequestHeaders.UserAgent.ParseAdd("Tessera");
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });

    private static void ConfigureLogging(ILoggingBuilder logging)
    {
        // Request URLs and protocol messages can carry codes and tokens; framework chatter stays at warnings.
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);
        logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        logging.AddFilter("OpenIddict", LogLevel.Warning);
        logging.AddFilter("Microsoft.Extensions.Http", LogLevel.Warning);
    }

    // The only scripts Tessera serves are OpenIddict's form_post auto-submit and the portal's copy buttons; each is allowed by its hash.
    private static readonly string ContentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action *; frame-ancestors 'none'; base-uri 'none'; script-src "
        + ScriptHash("document.form.submit();") + " " + ScriptHash(Pages.Portal.PortalScript.Copy);

    private static string ScriptHash(string script) =>
        $"'sha256-{Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(script)))}'";

    private static Task SecurityHeaders(HttpContext context, Func<Task> next)
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        return next();
    }
}
