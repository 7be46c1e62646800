using System.Security.Cryptography;
using Microsoft.AspNetCore.Mvc;
using Tessera.Hosting;

namespace Tessera.Pages.Portal;

/// <summary>
/// Adding a connection: choose the IdP, read its steps, copy Tessera's values into it, give it the IdP's values. The
/// connection's id is chosen when the page is shown, so the values to copy are the ones it will have.
/// </summary>
public sealed class NewConnectionModel(PortalConnections connections) : PortalPageModel
{
    [BindProperty]
    public ConnectionForm Form { get; set; } = new();

    [BindProperty]
    public string? ConnectionId { get; set; }

    public IdentityProviderGuide? Guide { get; private set; }

    public CopyValues Copy { get; private set; } = new(null, null, null, null);

    public Dictionary<string, List<string>> Problems { get; } = new(StringComparer.Ordinal);

    public IActionResult OnGet(string? provider)
    {
        if (provider is not null && IdentityProviderGuides.Find(provider) is null)
        {
            return NotFoundPage();
        }

        Guide = IdentityProviderGuides.Find(provider);
        if (Guide is not null)
        {
            ConnectionId = NewId(Guide);
            Copy = connections.Copy(ConnectionId, Guide.Protocol);
            // What people see on the connection chooser, if the organization has several: a suggestion to edit.
            Form.DisplayName = Guide.Key is "oidc" or "saml" ? OrganizationName : $"{OrganizationName} ({Guide.Name})";
        }

        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string? provider, CancellationToken cancellationToken)
    {
        Guide = IdentityProviderGuides.Find(provider);
        if (Guide is null)
        {
            return NotFoundPage();
        }

        // The id came back from the page: it must still be this organization's kind of name, and new.
        if (ConnectionId is null || !ConnectionId.StartsWith(Prefix(Guide), StringComparison.Ordinal) || !TesseraOptionsValidator.IdentifierPattern().IsMatch(ConnectionId))
        {
            ConnectionId = NewId(Guide);
        }

        var errors = await connections.SaveAsync(OrganizationId, ConnectionId, Guide.Protocol, Form, isNew: true, Actor, cancellationToken);
        if (errors.Count == 0)
        {
            return Redirect($"{Request.PathBase}/portal/connections/{Uri.EscapeDataString(ConnectionId)}?saved=true");
        }

        foreach (var error in errors)
        {
            var field = ConnectionForm.FieldOf(error.Path) ?? "";
            Problems.TryAdd(field, []);
            Problems[field].Add(error.Reason);
        }

        Copy = connections.Copy(ConnectionId, Guide.Protocol);
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private string Prefix(IdentityProviderGuide guide) => $"{(OrganizationId.Length > 40 ? OrganizationId[..40] : OrganizationId)}-{guide.Key}-";

    private string NewId(IdentityProviderGuide guide) => Prefix(guide) + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
}
