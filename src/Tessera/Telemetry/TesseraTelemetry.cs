using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;
using Tessera.Federation;
using Tessera.Signals;

namespace Tessera.Telemetry;

/// <summary>
/// Tessera's own spans and metrics, all in one place: the <c>Tessera</c> ActivitySource and Meter, the instruments an
/// operator alerts on, and the attribute names they carry (docs/observability.md lists them). Attributes are ids from
/// configuration (organization, connection, client, trusted issuer), outcomes and error codes: never a token, code,
/// secret, email, address or anything else a request or a person supplies. Metric tags stay few-valued, and each
/// method returns at its first check when nothing listens, so an unexported instrument costs a branch.
/// </summary>
public sealed class TesseraTelemetry
{
    public const string Name = "Tessera";

    public static readonly string Version =
        typeof(TesseraTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>Static, as ActivitySources are: a span has no host to belong to, only a trace.</summary>
    public static readonly ActivitySource Source = new(Name, Version);

    private readonly Counter<long> _signIns;
    private readonly Counter<long> _tokensIssued;
    private readonly Counter<long> _exchanges;
    private readonly Counter<long> _scimOperations;
    private readonly Counter<long> _signalDeliveries;
    private readonly Histogram<double> _signalDeliveryLag;
    private readonly Histogram<double> _auditWriteLag;
    private readonly Counter<long> _metadataFetches;
    private readonly Counter<long> _anomalies;

    public TesseraTelemetry(IMeterFactory meters, SignalBacklog backlog)
    {
        var meter = meters.Create(Name, Version);
        _signIns = meter.CreateCounter<long>("tessera.sign_ins", "{sign-in}",
            "Brokered sign-ins concluded, by organization, connection, protocol and outcome (with error.type on failure)");
        _tokensIssued = meter.CreateCounter<long>("tessera.tokens.issued", "{response}",
            "Successful token endpoint responses, by grant type and by the path that answered (lean or pipeline)");
        _exchanges = meter.CreateCounter<long>("tessera.exchanges", "{exchange}",
            "Token exchanges (RFC 8693), by outcome, with the rule or OAuth error that refused one and the subject token's source");
        _scimOperations = meter.CreateCounter<long>("tessera.scim.operations", "{operation}",
            "SCIM requests, by operation, response status and (once authenticated) organization");
        _signalDeliveries = meter.CreateCounter<long>("tessera.signals.deliveries", "{attempt}",
            "Signal delivery attempts (back-channel logout, Security Event Token push), by channel and outcome");
        _signalDeliveryLag = meter.CreateHistogram("tessera.signals.delivery.lag", "s",
            "From the event to the receiver's final answer (delivered, refused or abandoned), by channel and outcome",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600] });
        _auditWriteLag = meter.CreateHistogram("tessera.audit.write.lag", "s",
            "From an audit event's record time to its commit in the log",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _metadataFetches = meter.CreateCounter<long>("tessera.metadata.fetches", "{fetch}",
            "Fetches of upstream metadata and key sets, by kind and outcome");
        _anomalies = meter.CreateCounter<long>("tessera.anomalies", "{anomaly}",
            "Anomalies detected (one per anomaly.detected audit row), by rule and the action the rule calls for");
        meter.CreateObservableGauge("tessera.signals.backlog", backlog.Observe, "{delivery}",
            "Signal deliveries not yet completed, by channel, as last counted (every few seconds while observed)");
    }

    /// <summary>Attribute and tag names, as docs/observability.md lists them.</summary>
    public static class Tags
    {
        public const string Organization = "organization.id";
        public const string Connection = "connection.id";
        public const string Protocol = "upstream.protocol";
        public const string Client = "client.id";
        public const string Issuer = "issuer.id";
        public const string Outcome = "outcome";
        public const string Error = "error.type";
        public const string GrantType = "grant_type";
        public const string TokenPath = "token.path";
        public const string ScimOperation = "scim.operation";
        public const string Status = "http.response.status_code";
        public const string Channel = "signal.channel";
        public const string Destination = "signal.destination";
        public const string Attempt = "signal.attempt";
        public const string FetchKind = "fetch.kind";
        public const string TestSignIn = "upstream.test";
        public const string Rule = "rule";
        public const string Action = "action";
        public const string AnomalyRequest = "anomaly.request";
        public const string AnomalyDetections = "anomaly.detections";
    }

    /// <summary>Span names.</summary>
    public static class Spans
    {
        public const string UpstreamBegin = "tessera.upstream.begin";
        public const string UpstreamCallback = "tessera.upstream.callback";
        public const string ConnectorComplete = "tessera.connector.complete";
        public const string ExchangeValidate = "tessera.exchange.validate";
        public const string Scim = "tessera.scim";
        public const string SignalDelivery = "tessera.signal.deliver";
        public const string AnomalyEvaluate = "tessera.anomaly.evaluate";
    }

    public const string Success = "success";
    public const string Failure = "failure";

    /// <summary>A span of Tessera's, or null when nobody samples it (then nothing else here does any work for it).</summary>
    public static Activity? Start(string name, ActivityKind kind = ActivityKind.Internal) => Source.StartActivity(name, kind);

    /// <summary>A span of work that began at <paramref name="startTime"/>, begun only once it is known to be reported.</summary>
    public static Activity? Start(string name, DateTimeOffset startTime) =>
        Source.StartActivity(name, ActivityKind.Internal, parentContext: default, tags: null, links: null, startTime);

    /// <summary>The span of Tessera's named <paramref name="name"/> that is current, if that is what is current.</summary>
    public static Activity? Current(string name) =>
        Activity.Current is { } current && ReferenceEquals(current.Source, Source) && current.OperationName == name ? current : null;

    /// <summary>Names the connection on a span: its organization, its id and its protocol.</summary>
    public static void Describe(Activity? activity, Connection? connection)
    {
        if (activity is { IsAllDataRequested: true } && connection is not null)
        {
            activity.SetTag(Tags.Organization, connection.Organization.Id);
            activity.SetTag(Tags.Connection, connection.Id);
            activity.SetTag(Tags.Protocol, connection.Protocol);
        }
    }

    public static void Succeeded(Activity? activity) => activity?.SetTag(Tags.Outcome, Success);

    /// <summary>A refusal: the outcome, the error code (a fixed name, never a message) and the span's error status.</summary>
    public static void Failed(Activity? activity, string error)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag(Tags.Outcome, Failure);
        activity.SetTag(Tags.Error, error);
        activity.SetStatus(ActivityStatusCode.Error);
    }

    /// <summary>A brokered sign-in concluded: <paramref name="error"/> null for success. Unknown connections are not named.</summary>
    public void SignIn(Connection? connection, string? error)
    {
        if (!_signIns.Enabled)
        {
            return;
        }

        var tags = new TagList
        {
            { Tags.Outcome, error is null ? Success : Failure },
        };
        if (connection is not null)
        {
            tags.Add(Tags.Organization, connection.Organization.Id);
            tags.Add(Tags.Connection, connection.Id);
            tags.Add(Tags.Protocol, connection.Protocol);
        }

        if (error is not null)
        {
            tags.Add(Tags.Error, error);
        }

        _signIns.Add(1, tags);
    }

    /// <summary>A successful token response; the grant type is one the server accepted, so the tag stays few-valued.</summary>
    /// <param name="lean">Whether the lean client_credentials path answered, rather than OpenIddict's pipeline.</param>
    public void TokenIssued(string grantType, bool lean = false)
    {
        if (_tokensIssued.Enabled)
        {
            _tokensIssued.Add(1, new KeyValuePair<string, object?>(Tags.GrantType, grantType),
                new KeyValuePair<string, object?>(Tags.TokenPath, lean ? "lean" : "pipeline"));
        }
    }

    /// <param name="error">The exchange rule or OAuth error that refused it; null when it succeeded.</param>
    /// <param name="issuerId">The configured source of the subject token (a trusted issuer, a connection, or <c>tessera</c>), when known.</param>
    public void Exchange(string? error, string? issuerId)
    {
        if (!_exchanges.Enabled)
        {
            return;
        }

        var tags = new TagList { { Tags.Outcome, error is null ? Success : Failure } };
        if (error is not null)
        {
            tags.Add(Tags.Error, error);
        }

        if (issuerId is not null)
        {
            tags.Add(Tags.Issuer, issuerId);
        }

        _exchanges.Add(1, tags);
    }

    public bool MeasuresScim => _scimOperations.Enabled;

    /// <param name="organizationId">Only once the request's token proved which organization it is: never a value from the URL.</param>
    public void ScimOperation(string operation, int status, string? organizationId)
    {
        if (!_scimOperations.Enabled)
        {
            return;
        }

        var tags = new TagList { { Tags.ScimOperation, operation }, { Tags.Status, status } };
        if (organizationId is not null)
        {
            tags.Add(Tags.Organization, organizationId);
        }

        _scimOperations.Add(1, tags);
    }

    /// <param name="lag">From the event to this attempt, recorded when the outcome is final.</param>
    public void SignalDelivery(string channel, string outcome, TimeSpan? lag)
    {
        var channelTag = new KeyValuePair<string, object?>(Tags.Channel, channel);
        var outcomeTag = new KeyValuePair<string, object?>(Tags.Outcome, outcome);
        if (_signalDeliveries.Enabled)
        {
            _signalDeliveries.Add(1, channelTag, outcomeTag);
        }

        if (lag is { } value && _signalDeliveryLag.Enabled)
        {
            _signalDeliveryLag.Record(Math.Max(0, value.TotalSeconds), channelTag, outcomeTag);
        }
    }

    /// <summary>Whether anyone measures the audit write lag: the writer skips the clock reads otherwise.</summary>
    public bool MeasuresAuditLag => _auditWriteLag.Enabled;

    public void AuditWriteLag(TimeSpan lag) => _auditWriteLag.Record(Math.Max(0, lag.TotalSeconds));

    /// <param name="kind">One of <see cref="FetchKinds"/>.</param>
    public void MetadataFetch(string kind, bool succeeded)
    {
        if (_metadataFetches.Enabled)
        {
            _metadataFetches.Add(1, new KeyValuePair<string, object?>(Tags.FetchKind, kind), new KeyValuePair<string, object?>(Tags.Outcome, succeeded ? Success : Failure));
        }
    }

    /// <summary>
    /// An anomaly a rule detected, as its <c>anomaly.detected</c> audit row is written: the rule's kind and the action
    /// that rule calls for, both from configuration (when several rules fire, each is counted with its own action).
    /// </summary>
    public void Anomaly(string rule, string action)
    {
        if (_anomalies.Enabled)
        {
            _anomalies.Add(1, new KeyValuePair<string, object?>(Tags.Rule, rule), new KeyValuePair<string, object?>(Tags.Action, action));
        }
    }

    /// <summary>What a metadata fetch was for.</summary>
    public static class FetchKinds
    {
        public const string OidcDiscovery = "oidc_discovery";
        public const string OidcKeys = "oidc_jwks";
        public const string SamlMetadata = "saml_metadata";
        public const string IssuerDiscovery = "issuer_discovery";
        public const string IssuerKeys = "issuer_jwks";
    }
}
