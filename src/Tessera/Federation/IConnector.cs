namespace Tessera.Federation;

/// <summary>
/// One upstream protocol. A connector begins a sign-in (where to send the browser) and completes it (verify
/// the answer, every rule), returning a verified identity or a named failure. It never touches sessions,
/// users or tokens: the broker does that the same way for every protocol.
/// </summary>
public interface IConnector
{
    /// <summary>The <c>Protocol</c> value of connections this connector serves.</summary>
    string Protocol { get; }

    Task<UpstreamRedirect> BeginAsync(Connection connection, UpstreamTicket ticket, CancellationToken cancellationToken);

    /// <summary>
    /// The answer's parameters as they arrived at the connection's callback (its binding: query, form), or why they
    /// cannot be an answer at all. The sign-in's state, where the protocol carries one, is the <c>state</c> parameter.
    /// </summary>
    Task<UpstreamAnswer> ReadAnswerAsync(HttpRequest request, CancellationToken cancellationToken);

    Task<UpstreamResult> CompleteAsync(Connection connection, UpstreamTicket ticket, IReadOnlyDictionary<string, string> response, CancellationToken cancellationToken);
}

/// <summary>The per-sign-in secrets that bind the upstream answer to the request Tessera sent.</summary>
public sealed record UpstreamTicket(string State, string Nonce, string CodeVerifier, Uri CallbackUri)
{
    public string? LoginHint { get; init; }
    public bool ForceLogin { get; init; }
}

/// <summary>A verified identity, or the rule that failed and a message safe to show.</summary>
public sealed record UpstreamResult(UpstreamIdentity? Identity, string? Error, string? Description)
{
    public bool Succeeded => Identity is not null;

    /// <summary>On a failure, what the connection's administrator needs to fix it, where the connector can say.</summary>
    public UpstreamDiagnosis? Diagnosis { get; init; }

    public static UpstreamResult Success(UpstreamIdentity identity) => new(identity, null, null);

    public static UpstreamResult Failure(string error, string description) => new(null, error, description);
}

/// <summary>What arrived at a connection's callback: the answer's parameters, or a malformed request's named failure.</summary>
public sealed record UpstreamAnswer(IReadOnlyDictionary<string, string>? Parameters, string? Error, string? Description)
{
    public static UpstreamAnswer Of(IReadOnlyDictionary<string, string> parameters) => new(parameters, null, null);

    public static UpstreamAnswer Malformed(string error, string description) => new(null, error, description);
}

/// <summary>Where to send the browser to begin an upstream sign-in, or why that is not possible now.</summary>
public sealed record UpstreamRedirect(Uri? Location, string? Error, string? Description)
{
    /// <summary>On a failure, what the connection's administrator needs to fix it, where the connector can say.</summary>
    public UpstreamDiagnosis? Diagnosis { get; init; }

    public static UpstreamRedirect To(Uri location) => new(location, null, null);

    public static UpstreamRedirect Failure(string error, string description) => new(null, error, description);
}
