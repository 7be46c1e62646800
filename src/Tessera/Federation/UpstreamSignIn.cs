using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using Tessera.Audit;
using Tessera.Hosting;
using Tessera.Identity;
using Tessera.Sessions;
using Tessera.Storage;
using Tessera.Telemetry;

namespace Tessera.Federation;

/// <summary>
/// The broker's side of an upstream sign-in, the same for every protocol: remember what was sent (state, nonce,
/// PKCE verifier, the browser that asked), let the connector verify the answer, then resolve the internal user,
/// apply the mapping rules, open the SSO session and audit the outcome.
/// </summary>
public sealed class UpstreamSignIn(
    TesseraDbContext db,
    IEnumerable<IConnector> connectors,
    ConnectionDirectory directory,
    IdentityResolver identities,
    Directory.ProvisionedUsers provisioning,
    SessionStore sessions,
    RevocationService revocation,
    BrowserCookies cookies,
    AuditLog audit,
    TesseraIssuer issuer,
    ConnectionTestResults tests,
    TesseraTelemetry telemetry,
    Risk.AnomalyResponse anomalies,
    Risk.FailureBursts failures,
    TimeProvider time)
{
    private static readonly TimeSpan PendingLifetime = TimeSpan.FromMinutes(15);

    /// <param name="connectionTestId">Set for a test sign-in: the answer is recorded as the test's verdict, and signs nobody in.</param>
    /// <param name="challenged">This leg answers an anomaly rule's challenge: its sign-in is not challenged again.</param>
    public async Task<UpstreamRedirect> BeginAsync(HttpContext http, Connection connection, string returnUrl, string? loginHint, bool forceLogin, CancellationToken cancellationToken,
        string? connectionTestId = null, bool challenged = false)
    {
        using var span = TesseraTelemetry.Start(TesseraTelemetry.Spans.UpstreamBegin);
        TesseraTelemetry.Describe(span, connection);
        if (connectionTestId is not null)
        {
            span?.SetTag(TesseraTelemetry.Tags.TestSignIn, true);
        }

        var connector = connectors.FirstOrDefault(c => c.Protocol == connection.Options.Protocol);
        if (connector is null || (connection.IsDraft && connectionTestId is null))
        {
            TesseraTelemetry.Failed(span, "unsupported_connection");
            return UpstreamRedirect.Failure("unsupported_connection", "This connection is not available for sign-in.");
        }

        var ticket = new UpstreamTicket(Random(), Random(), Random(), CallbackUri(connection))
        {
            LoginHint = loginHint,
            ForceLogin = forceLogin,
        };
        var now = time.GetUtcNow().UtcDateTime;
        var pending = new PendingLoginRecord
        {
            StateHash = SessionStore.Hash(ticket.State),
            ConnectionId = connection.Id,
            Nonce = ticket.Nonce,
            CodeVerifier = ticket.CodeVerifier,
            BrowserBindingHash = SessionStore.Hash(cookies.GetOrCreateBinding(http)),
            ReturnUrl = returnUrl,
            ConnectionTestId = connectionTestId,
            Challenged = challenged,
            CreatedAt = now,
            ExpiresAt = now + PendingLifetime,
        };

        var redirect = await connector.BeginAsync(connection, ticket, cancellationToken);
        if (redirect.Location is null)
        {
            audit.Record(Event(http, AuditEvents.SignInFailed, AuditEvent.Failure, connection) with { Reason = $"{redirect.Error}: {redirect.Description}" });
            TesseraTelemetry.Failed(span, redirect.Error!);
            if (connectionTestId is null)
            {
                telemetry.SignIn(connection, redirect.Error);
            }

            return redirect;
        }

        db.PendingLogins.Add(pending);
        await db.SaveChangesAsync(cancellationToken);
        audit.Record(Event(http, AuditEvents.SignInStarted, AuditEvent.Success, connection));
        TesseraTelemetry.Succeeded(span);
        return redirect;
    }

    /// <summary>
    /// What arrived at a connection's callback, at the route of <paramref name="protocol"/>: the connector reads the
    /// answer, which completes the sign-in its <c>state</c> names; an answer that names none is taken only by a
    /// connector that accepts unsolicited answers, and lands where the connection says.
    /// </summary>
    public async Task<SignInOutcome> AnswerAsync(HttpContext http, string? protocol, string connectionId, CancellationToken cancellationToken)
    {
        using var span = TesseraTelemetry.Start(TesseraTelemetry.Spans.UpstreamCallback);

        // A draft answers only the test sign-ins an admin starts; for anyone else it does not exist.
        var connection = directory.FindConnectionOrDraft(connectionId);
        var connector = connection is null ? null : connectors.FirstOrDefault(c => c.Protocol == connection.Protocol);
        if (connection is null || connector is null || connection.Protocol != protocol)
        {
            return Fail(http, null, null, "unknown_connection", "This sign-in was sent to a connection that does not exist.");
        }

        TesseraTelemetry.Describe(span, connection);
        var answer = await connector.ReadAnswerAsync(http.Request, cancellationToken);
        if (answer.Parameters is not { } response)
        {
            return Fail(http, connection, null, answer.Error!, answer.Description!);
        }

        if (connection.IsDraft || connector is not IAcceptsUnsolicitedResponses unsolicited
            || (response.TryGetValue("state", out var state) && state.Length is > 0 and <= 200 && await IsPendingAsync(state, cancellationToken)))
        {
            return await CompleteAsync(http, connection, connector, response, cancellationToken);
        }

        // RelayState is never a destination: the landing is the connection's configured client.
        var result = await VerifyAsync(connection, () => unsolicited.CompleteUnsolicitedAsync(connection, response.Where(p => p.Key != "state").ToDictionary(), cancellationToken));
        var landing = unsolicited.LandingUrl(connection, issuer);
        if (result.Succeeded && landing is null)
        {
            result = UpstreamResult.Failure("unsolicited", "This connection does not accept sign-ins started at the identity provider.");
        }

        return await FinishAsync(http, connection, result, landing ?? "/", challenged: false, cancellationToken) with { External = true };
    }

    private Task<bool> IsPendingAsync(string state, CancellationToken cancellationToken)
    {
        var stateHash = SessionStore.Hash(state);
        return db.PendingLogins.AnyAsync(p => p.StateHash == stateHash, cancellationToken);
    }

    /// <summary>
    /// The pending sign-in <paramref name="stateHash"/> names, deleted as it is read: single use, whoever deletes it owns
    /// it, and of two answers carrying the same state only one finds it. One statement (RETURNING, on SQLite and
    /// PostgreSQL alike) where a read and then a delete were two.
    /// </summary>
    private async Task<PendingLoginRecord?> TakePendingAsync(string stateHash, CancellationToken cancellationToken)
    {
        var taken = await db.PendingLogins
            .FromSql($"""DELETE FROM pending_logins WHERE "StateHash" = {stateHash} RETURNING *""")
            .AsNoTracking().ToListAsync(cancellationToken);
        return taken.Count == 1 ? taken[0] : null;
    }

    private async Task<SignInOutcome> CompleteAsync(HttpContext http, Connection connection, IConnector connector, IReadOnlyDictionary<string, string> response, CancellationToken cancellationToken)
    {
        if (!response.TryGetValue("state", out var state) || string.IsNullOrEmpty(state) || state.Length > 200)
        {
            return Fail(http, connection, null, "state_mismatch", "The answer from the identity provider does not belong to a sign-in started here.");
        }

        var pending = await TakePendingAsync(SessionStore.Hash(state), cancellationToken);
        if (pending is null)
        {
            return Fail(http, connection, null, "state_mismatch", "The answer from the identity provider does not belong to a sign-in started here, or was already used.");
        }

        if (connection.IsDraft && pending.ConnectionTestId is null)
        {
            return Fail(http, null, null, "unknown_connection", "This sign-in was sent to a connection that does not exist.");
        }

        if (pending.ExpiresAt <= time.GetUtcNow().UtcDateTime)
        {
            return Fail(http, connection, pending.ReturnUrl, "sign_in_expired", "The sign-in took too long. Please start again.");
        }

        if (!string.Equals(pending.ConnectionId, connection.Id, StringComparison.Ordinal))
        {
            return Fail(http, connection, null, "state_mismatch", "The answer came back to a different connection than the sign-in was sent to.");
        }

        var binding = cookies.ReadBinding(http);
        if (binding is null || !CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.ASCII.GetBytes(SessionStore.Hash(binding)), System.Text.Encoding.ASCII.GetBytes(pending.BrowserBindingHash)))
        {
            return Fail(http, connection, null, "browser_mismatch", "This sign-in was started in a different browser.");
        }

        var ticket = new UpstreamTicket(state, pending.Nonce, pending.CodeVerifier, CallbackUri(connection));
        var result = await VerifyAsync(connection, () => connector.CompleteAsync(connection, ticket, response, cancellationToken));
        if (pending.ConnectionTestId is { } testId)
        {
            // A test's verdict is the admin's, not a sign-in: the span says how it went, the sign-in counter leaves it out.
            var span = TesseraTelemetry.Current(TesseraTelemetry.Spans.UpstreamCallback);
            span?.SetTag(TesseraTelemetry.Tags.TestSignIn, true);
            if (result.Succeeded)
            {
                TesseraTelemetry.Succeeded(span);
            }
            else
            {
                TesseraTelemetry.Failed(span, result.Error!);
            }

            // A test signs nobody in: its verdict, success or failure, is what the admin reads next.
            await tests.CompleteAsync(testId, connection, result, cancellationToken);
            return SignInOutcome.Success(pending.ReturnUrl);
        }

        return await FinishAsync(http, connection, result, pending.ReturnUrl, pending.Challenged, cancellationToken);
    }

    private async Task<SignInOutcome> FinishAsync(HttpContext http, Connection connection, UpstreamResult result, string returnUrl, bool challenged, CancellationToken cancellationToken)
    {
        if (!result.Succeeded)
        {
            return Fail(http, connection, returnUrl, result.Error!, result.Description!);
        }

        var identity = result.Identity!;
        var linked = await identities.FindLinkAsync(identity, cancellationToken);
        if (await provisioning.PrepareAsync(identity, linked?.Link.UserId, cancellationToken) == Directory.ProvisioningCheck.NotProvisioned)
        {
            return Fail(http, connection, null, "not_provisioned",
                "Your organization has not given you access to this service. Ask its administrator to assign it to you.");
        }

        // Not linked before: provisioning may have linked the identity to a provisioned user just now.
        var user = await identities.ResolveAsync(identity, linked ?? await identities.FindLinkAsync(identity, cancellationToken), cancellationToken);
        if (user.DisabledAt is not null)
        {
            return Fail(http, connection, null, "user_disabled", "This account is disabled.", user.Id);
        }

        var assessment = await anomalies.AssessSignInAsync(http, user, connection, challenged, cancellationToken);
        if (assessment.Verdict == Risk.AnomalyVerdict.Block)
        {
            return Fail(http, connection, null, "sign_in_blocked",
                "This sign-in was refused to protect your account. If it was you, contact your administrator and give them the reference below.", user.Id, assessment.Reference);
        }

        if (assessment.Verdict == Risk.AnomalyVerdict.Challenge)
        {
            // The identity provider is asked to sign the person in afresh (prompt=login, ForceAuthn); that answer is let through.
            var again = await BeginAsync(http, connection, returnUrl, identity.Email, forceLogin: true, cancellationToken, challenged: true);
            return again.Location is null
                ? Fail(http, connection, null, again.Error!, again.Description!, user.Id, assessment.Reference)
                : SignInOutcome.Success(again.Location.AbsoluteUri) with { External = true };
        }

        var previous = await sessions.FindByCookieAsync(cookies.ReadSession(http), cancellationToken);
        if (previous is not null)
        {
            await revocation.EndSessionAsync(previous.Id, "replaced by a new sign-in", Signals.InitiatingEntities.User, Event(http, AuditEvents.SessionEnded, AuditEvent.Success, connection), cancellationToken);
        }

        var grants = MappingRules.Evaluate(connection.Organization.Rules, identity.Claims, identity.MappedClaims);
        var (session, secret) = await sessions.CreateAsync(user, identity, connection.Options, grants, cancellationToken);
        await anomalies.RememberSessionAsync(assessment, session.Id, cancellationToken);
        cookies.WriteSession(http, secret, new DateTimeOffset(session.ExpiresAt, TimeSpan.Zero));
        audit.Record(Event(http, AuditEvents.SignInSucceeded, AuditEvent.Success, connection) with
        {
            UserId = user.Id.ToString(),
            Detail = new Dictionary<string, string?>
            {
                ["sid"] = session.Id,
                ["granted_scopes"] = string.Join(' ', grants.Scopes),
                ["session_expires_at"] = session.ExpiresAt.ToString("O"),
            },
        });
        TesseraTelemetry.Succeeded(TesseraTelemetry.Current(TesseraTelemetry.Spans.UpstreamCallback));
        telemetry.SignIn(connection, null);
        return SignInOutcome.Success(returnUrl);
    }

    /// <summary>The connector's verification of an answer, as a span of its own under the callback's.</summary>
    private static async Task<UpstreamResult> VerifyAsync(Connection connection, Func<Task<UpstreamResult>> complete)
    {
        using var span = TesseraTelemetry.Start(TesseraTelemetry.Spans.ConnectorComplete);
        TesseraTelemetry.Describe(span, connection);
        var result = await complete();
        if (result.Succeeded)
        {
            TesseraTelemetry.Succeeded(span);
        }
        else
        {
            TesseraTelemetry.Failed(span, result.Error!);
        }

        return result;
    }

    private Uri CallbackUri(Connection connection) => new(issuer.Url(connection.CallbackPath));

    private SignInOutcome Fail(HttpContext http, Connection? connection, string? retryUrl, string error, string description, Guid? userId = null, string? reference = null)
    {
        // The reference ties what the browser shows to the audit row, without showing anything else.
        reference ??= Convert.ToHexString(RandomNumberGenerator.GetBytes(6));
        failures.Failed(http, Risk.FailureKind.SignIn);
        TesseraTelemetry.Failed(TesseraTelemetry.Current(TesseraTelemetry.Spans.UpstreamCallback), error);
        telemetry.SignIn(connection, error);
        audit.Record(Event(http, AuditEvents.SignInFailed, AuditEvent.Failure, connection) with
        {
            UserId = userId?.ToString(),
            Reason = $"{error}: {description}",
            Detail = new Dictionary<string, string?> { ["reference"] = reference },
        });
        return SignInOutcome.Failure(error, description, retryUrl) with { Reference = reference };
    }

    private static AuditEvent Event(HttpContext http, string name, string outcome, Connection? connection) => new(name, outcome)
    {
        OrganizationId = connection?.Organization.Id,
        ConnectionId = connection?.Id,
        IpAddress = http.Connection.RemoteIpAddress?.ToString(),
        UserAgent = http.Request.Headers.UserAgent.ToString(),
    };

    private static string Random() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
}

/// <summary>Where to continue after an upstream answer: back to the pending authorization, or an error to show.</summary>
public sealed record SignInOutcome(string? ReturnUrl, string? Error, string? Description, string? RetryUrl)
{
    /// <summary>Shown with a failure and recorded in its audit row, so support can find one from the other.</summary>
    public string? Reference { get; init; }

    /// <summary>The return URL is a configured client's absolute URL (an unsolicited sign-in's landing), not one of Tessera's paths.</summary>
    public bool External { get; init; }

    public bool Succeeded => Error is null;

    public static SignInOutcome Success(string returnUrl) => new(returnUrl, null, null, null);

    public static SignInOutcome Failure(string error, string description, string? retryUrl) => new(null, error, description, retryUrl);
}
