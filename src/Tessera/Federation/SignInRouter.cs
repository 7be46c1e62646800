using Tessera.Hosting;

namespace Tessera.Federation;

/// <summary>
/// Home-realm routing: from what is known (a connection id, an organization id, an email) to the next step,
/// which is an upstream redirect, a connection chooser, the email question, or an error.
/// </summary>
public sealed class SignInRouter(ConnectionDirectory directory, HomeRealmDiscovery discovery, UpstreamSignIn upstream)
{
    public async Task<SignInRoute> RouteAsync(HttpContext http, SignInHints hints, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(hints.ConnectionId))
        {
            var connection = directory.FindConnection(hints.ConnectionId);
            if (connection is null || (hints.OrganizationId is not null && connection.Organization.Id != hints.OrganizationId))
            {
                return SignInRoute.Failure("unknown_connection", "The requested connection does not exist.");
            }

            return await BeginAsync(http, connection, hints, cancellationToken);
        }

        Organization? organization = null;
        if (!string.IsNullOrEmpty(hints.OrganizationId))
        {
            organization = directory.FindOrganization(hints.OrganizationId);
            if (organization is null)
            {
                return SignInRoute.Failure("unknown_organization", "The requested organization does not exist.");
            }
        }
        else if (!string.IsNullOrEmpty(hints.Email))
        {
            organization = discovery.FindByEmail(hints.Email);
            if (organization is null)
            {
                return SignInRoute.AskEmail("No organization uses that email domain here. Check the address, or ask your administrator.");
            }
        }

        if (organization is null)
        {
            return SignInRoute.AskEmail(null);
        }

        var connections = organization.Connections;
        return connections.Count switch
        {
            0 => SignInRoute.Failure("no_connection", $"{organization.Name} has no sign-in connection configured."),
            1 => await BeginAsync(http, connections[0], hints, cancellationToken),
            _ => SignInRoute.Choose(organization),
        };
    }

    private async Task<SignInRoute> BeginAsync(HttpContext http, Connection connection, SignInHints hints, CancellationToken cancellationToken)
    {
        var redirect = await upstream.BeginAsync(http, connection, hints.ReturnUrl, hints.Email, hints.ForceLogin, cancellationToken);
        return redirect.Location is not null
            ? SignInRoute.Redirect(redirect.Location.AbsoluteUri)
            : SignInRoute.Failure(redirect.Error!, redirect.Description!);
    }
}

/// <summary>What is known about where the person should sign in, and where to go back afterwards.</summary>
public sealed record SignInHints(string ReturnUrl)
{
    public string? ConnectionId { get; init; }
    public string? OrganizationId { get; init; }
    public string? Email { get; init; }
    public bool ForceLogin { get; init; }
}

public enum SignInStep
{
    Redirect,
    AskEmail,
    ChooseConnection,
    Failed,
}

public sealed record SignInRoute(SignInStep Step, string? Location, Organization? Organization, string? Error, string? Description)
{
    public static SignInRoute Redirect(string location) => new(SignInStep.Redirect, location, null, null, null);

    public static SignInRoute AskEmail(string? message) => new(SignInStep.AskEmail, null, null, null, message);

    public static SignInRoute Choose(Organization organization) => new(SignInStep.ChooseConnection, null, organization, null, null);

    public static SignInRoute Failure(string error, string description) => new(SignInStep.Failed, null, null, error, description);
}
