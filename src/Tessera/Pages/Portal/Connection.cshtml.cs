using Microsoft.AspNetCore.Mvc;
using Tessera.Federation;
using Tessera.Hosting;
using Tessera.Storage;

namespace Tessera.Pages.Portal;

/// <summary>One connection of the organization: values to copy, its settings, a test sign-in, and activation.</summary>
public sealed class ConnectionModel(PortalConnections connections, ConnectionTestResults tests, TestSignIns testSignIns) : PortalPageModel
{
    [BindProperty]
    public ConnectionForm Form { get; set; } = new();

    public Connection Connection { get; private set; } = null!;

    public string Name => Connection.Options.DisplayName ?? Connection.Id;

    public bool IsSaml => Connection.Protocol == SamlConnectionProtocol.ProtocolName;

    public bool IsDraft => Connection.IsDraft;

    public string Status => IsDraft ? ManagedKinds.Draft : ManagedKinds.Active;

    public CopyValues Copy { get; private set; } = new(null, null, null, null);

    public ConnectionTestRecord? LastTest { get; private set; }

    public bool LastTestIsCurrent { get; private set; }

    public bool CanActivate => LastTest is { Passed: true } && LastTestIsCurrent;

    public string? Message { get; private set; }

    public Dictionary<string, List<string>> Problems { get; } = new(StringComparer.Ordinal);

    public async Task<IActionResult> OnGetAsync(string id, bool saved, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFoundPage();
        }

        Form = ConnectionForm.From(Connection.Options);
        Message = saved ? "Saved." : null;
        await CheckAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostSaveAsync(string id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFoundPage();
        }

        var errors = await connections.SaveAsync(OrganizationId, id, Connection.Protocol, Form, isNew: false, Actor, cancellationToken);
        if (errors.Count > 0)
        {
            foreach (var error in errors)
            {
                Add(ConnectionForm.FieldOf(error.Path), error.Reason);
            }

            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        return Redirect($"{Request.PathBase}/portal/connections/{Uri.EscapeDataString(id)}?saved=true");
    }

    public async Task<IActionResult> OnPostTestAsync(string id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFoundPage();
        }

        var version = Current.FindManaged(ManagedKinds.Connection, id)?.Version ?? 0;
        var test = await tests.StartAsync(Connection, version, PortalSession.Id, cancellationToken);
        var next = await testSignIns.BeginAsync(HttpContext, Connection, test, $"/portal/tests/{test.Id}", cancellationToken);
        return Redirect(next.AbsoluteUri);
    }

    public async Task<IActionResult> OnPostActivateAsync(string id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFoundPage();
        }

        var refused = await connections.ActivateAsync(OrganizationId, id, Actor, cancellationToken);
        if (refused is null)
        {
            return Redirect($"{Request.PathBase}/portal/connections/{Uri.EscapeDataString(id)}?saved=true");
        }

        Form = ConnectionForm.From(Connection.Options);
        Message = refused;
        Response.StatusCode = StatusCodes.Status409Conflict;
        return Page();
    }

    public async Task<IActionResult> OnPostDeleteAsync(string id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFoundPage();
        }

        var refused = await connections.DeleteDraftAsync(OrganizationId, id, Actor, cancellationToken);
        if (refused is null)
        {
            return Redirect($"{Request.PathBase}/portal");
        }

        Form = ConnectionForm.From(Connection.Options);
        Message = refused;
        Response.StatusCode = StatusCodes.Status409Conflict;
        return Page();
    }

    /// <summary>The connection, if it is this organization's and managed here (the file's belong to the operator).</summary>
    private async Task<bool> LoadAsync(string id, CancellationToken cancellationToken)
    {
        if (OwnConnection(id) is not { } connection || Current.FindManaged(ManagedKinds.Connection, id) is not { } managed)
        {
            return false;
        }

        Connection = connection;
        Copy = connections.Copy(id, connection.Protocol);
        LastTest = await tests.LatestAsync(id, cancellationToken);
        LastTestIsCurrent = LastTest?.ConnectionVersion == managed.Version;
        return true;
    }

    private async Task CheckAsync(CancellationToken cancellationToken)
    {
        foreach (var (field, message) in await connections.CheckAsync(Connection, cancellationToken))
        {
            Add(field, message);
        }
    }

    private void Add(string? field, string message)
    {
        Problems.TryAdd(field ?? "", []);
        Problems[field ?? ""].Add(message);
    }
}
