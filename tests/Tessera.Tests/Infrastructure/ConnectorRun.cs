using System.Security.Cryptography;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using Tessera.Federation;
using Tessera.Hosting;

namespace Tessera.Tests.Infrastructure;

/// <summary>
/// One upstream sign-in driven through a connector itself, as a connection test does: the connector begins, the
/// upstream IdP answers (no browser, no broker), the connector completes and its result is returned whole,
/// diagnosis included.
/// </summary>
public static class ConnectorRun
{
    /// <summary>Begins at the connector, follows the IdP's redirect back to the callback, and completes with what it carried.</summary>
    public static async Task<(UpstreamResult Result, UpstreamTicket Ticket)> OidcAsync(TesseraTestServer server, string connectionId)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var (connection, connector) = Resolve(scope.ServiceProvider, connectionId);
        var ticket = new UpstreamTicket(Random(), Random(), Random(), new Uri(scope.ServiceProvider.GetRequiredService<TesseraIssuer>().Url(connection.CallbackPath)));

        var redirect = await connector.BeginAsync(connection, ticket, default);
        Assert.True(redirect.Location is not null, $"the connector did not begin: {redirect.Error} {redirect.Description}");
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var answer = await http.GetAsync(redirect.Location);
        var callback = answer.Headers.Location;
        Assert.True(callback is not null && callback.GetLeftPart(UriPartial.Path) == ticket.CallbackUri.AbsoluteUri, $"the IdP did not send the browser back: {(int)answer.StatusCode} {callback}");
        var response = QueryHelpers.ParseQuery(callback.Query).ToDictionary(p => p.Key, p => p.Value.ToString());

        return (await connector.CompleteAsync(connection, ticket, response, default), ticket);
    }

    /// <summary>Only the connector's first step: where it would send the browser, or why it cannot.</summary>
    public static async Task<UpstreamRedirect> BeginAsync(TesseraTestServer server, string connectionId)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var (connection, connector) = Resolve(scope.ServiceProvider, connectionId);
        var ticket = new UpstreamTicket(Random(), Random(), Random(), new Uri(scope.ServiceProvider.GetRequiredService<TesseraIssuer>().Url(connection.CallbackPath)));
        return await connector.BeginAsync(connection, ticket, default);
    }

    /// <summary>Completes a SAML sign-in with a posted Response that answers <paramref name="requestId"/>.</summary>
    public static async Task<UpstreamResult> SamlAsync(TesseraTestServer server, string connectionId, string samlResponse, string requestId)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var (connection, connector) = Resolve(scope.ServiceProvider, connectionId);
        return await ((SamlConnector)connector).ValidateAsync(connection, new Dictionary<string, string> { ["SAMLResponse"] = samlResponse }, requestId, default);
    }

    private static (Connection Connection, IConnector Connector) Resolve(IServiceProvider services, string connectionId)
    {
        var connection = services.GetRequiredService<ConnectionDirectory>().FindConnection(connectionId)!;
        return (connection, services.GetServices<IConnector>().Single(c => c.Protocol == connection.Protocol));
    }

    private static string Random() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
}
