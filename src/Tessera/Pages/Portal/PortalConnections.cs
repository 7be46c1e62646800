using Tessera.Admin;
using Tessera.Federation;
using Tessera.Hosting;

namespace Tessera.Pages.Portal;

/// <summary>The values an admin copies into their IdP for one connection.</summary>
public sealed record CopyValues(string? RedirectUri, string? AcsUrl, string? SpEntityId, string? SpMetadataUrl);

/// <summary>
/// The portal's connections: made and changed as managed resources (a new one is a draft), checked the way sign-in will
/// read them, and activated once a test sign-in has passed on the version in force.
/// </summary>
public sealed class PortalConnections(
    ManagedChanges changes,
    TesseraConfiguration configuration,
    TesseraIssuer issuer,
    IEnumerable<IConnector> connectors,
    SamlIdentityProviders samlIdentityProviders,
    ConnectionTestResults tests,
    TimeProvider time)
{
    public CopyValues Copy(string id, string protocol)
    {
        if (protocol == OidcConnectionProtocol.ProtocolName)
        {
            return new CopyValues(issuer.Url(new OidcConnectionProtocol().CallbackPath(new ConnectionOptions { Id = id })), null, null, null);
        }

        var entityId = configuration.Current.FindConnectionOrDraft(id)?.Options.SpEntityId ?? issuer.Url($"/saml/{id}");
        return new CopyValues(null, issuer.Url($"/saml/{id}/acs"), entityId, issuer.Url($"/saml/{id}/metadata"));
    }

    /// <summary>Saves the form as the connection (a new one as a draft); the errors, by field, when it does not compile.</summary>
    public async Task<IReadOnlyList<ConfigurationError>> SaveAsync(string organizationId, string id, string protocol, ConnectionForm form, bool isNew, string actor, CancellationToken cancellationToken)
    {
        try
        {
            await changes.SaveAsync(actor, isNew ? "create" : "replace", current =>
            {
                var before = current.Find(ManagedKinds.Connection, id);
                if (isNew ? before is not null || configuration.Current.FindConnectionOrDraft(id) is not null : before?.OrganizationId != organizationId)
                {
                    throw AdminProblem.Conflict(isNew ? "A connection with this name already exists; start again." : "This connection no longer exists.");
                }

                var options = form.ToOptions(id, protocol, before?.As<ConnectionOptions>(), issuer);
                var resource = before is null
                    ? new ManagedResource(ManagedKinds.Connection, id, organizationId, options, ManagedKinds.Draft, 0)
                    : before with { Options = options };
                return [new ResourceChange(ManagedKinds.Connection, id, resource)];
            }, cancellationToken);
            return [];
        }
        catch (AdminProblem problem)
        {
            return problem.Errors.Count > 0 ? problem.Errors : [new ConfigurationError("$", problem.Message)];
        }
    }

    /// <summary>
    /// What will go wrong before any test: an issuer that does not answer discovery, metadata that cannot be read, a
    /// signing certificate that has expired. Warnings, by field; the connection is saved regardless.
    /// </summary>
    public async Task<IReadOnlyList<(string? Field, string Message)>> CheckAsync(Connection connection, CancellationToken cancellationToken)
    {
        var warnings = new List<(string?, string)>();
        if (connection.Protocol == OidcConnectionProtocol.ProtocolName)
        {
            var connector = connectors.First(c => c.Protocol == connection.Protocol);
            var probe = await connector.BeginAsync(connection, new UpstreamTicket("check", "check", "check", new Uri(issuer.Url(connection.CallbackPath))), cancellationToken);
            if (probe.Location is null)
            {
                warnings.Add((nameof(ConnectionForm.Authority), probe.Diagnosis is { } d ? $"{d.Summary} {d.Hint}" : probe.Description!));
            }

            return warnings;
        }

        var (idp, error) = await samlIdentityProviders.GetAsync(connection.Options, cancellationToken);
        var field = connection.Options.MetadataXml is not null ? nameof(ConnectionForm.MetadataXml)
            : connection.Options.MetadataUrl is not null ? nameof(ConnectionForm.MetadataUrl) : nameof(ConnectionForm.Certificate);
        if (idp is null)
        {
            warnings.Add((field, error ?? "The identity provider's metadata could not be read."));
            return warnings;
        }

        var now = time.GetUtcNow();
        if (idp.SigningCertificates.Count == 0)
        {
            warnings.Add((field, "The metadata names no signing certificate, so no answer from this identity provider can be verified. Export the metadata again after the IdP has a signing certificate."));
        }

        foreach (var certificate in idp.SigningCertificates.Where(c => c.NotAfter.ToUniversalTime() < now.UtcDateTime))
        {
            warnings.Add((field, $"The signing certificate {Saml.CertificateFingerprint.Sha256(certificate)} expired on {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}. "
                + "Your identity provider is probably signing with a newer one: export its metadata again."));
        }

        return warnings;
    }

    /// <summary>Makes a draft active, if its newest test passed on the version in force; otherwise says why not.</summary>
    public async Task<string?> ActivateAsync(string organizationId, string id, string actor, CancellationToken cancellationToken)
    {
        var latest = await tests.LatestAsync(id, cancellationToken);
        try
        {
            await changes.SaveAsync(actor, "activate", current =>
            {
                var connection = current.Find(ManagedKinds.Connection, id);
                if (connection is null || connection.OrganizationId != organizationId)
                {
                    throw AdminProblem.NotFound("connection");
                }

                if (latest is not { Passed: true } || latest.ConnectionVersion != connection.Version)
                {
                    throw AdminProblem.Conflict("Run a test sign-in that passes on the connection as it is now before activating it.");
                }

                return [new ResourceChange(ManagedKinds.Connection, id, connection with { Status = ManagedKinds.Active })];
            }, cancellationToken);
            return null;
        }
        catch (AdminProblem problem)
        {
            return problem.Message;
        }
    }

    public async Task<string?> DeleteDraftAsync(string organizationId, string id, string actor, CancellationToken cancellationToken)
    {
        try
        {
            await changes.SaveAsync(actor, "delete", current =>
            {
                var connection = current.Find(ManagedKinds.Connection, id);
                return connection is null || connection.OrganizationId != organizationId ? throw AdminProblem.NotFound("connection")
                    : !connection.IsDraft ? throw AdminProblem.Conflict("Only a draft can be deleted here; ask your Tessera operator to remove an active connection.")
                    : [new ResourceChange(ManagedKinds.Connection, id, null)];
            }, cancellationToken);
            return null;
        }
        catch (AdminProblem problem)
        {
            return problem.Message;
        }
    }
}
