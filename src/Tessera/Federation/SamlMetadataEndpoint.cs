using Tessera.Hosting;
using Tessera.Saml;

namespace Tessera.Federation;

/// <summary>
/// <c>/saml/{connectionId}/metadata</c>: Tessera's SP metadata for one SAML connection (entity id, ACS, its
/// certificate for signed requests and encrypted assertions), what a customer's admin gives their IdP.
/// </summary>
public static class SamlMetadataEndpoint
{
    public const string ContentType = "application/samlmetadata+xml";

    public static IEndpointRouteBuilder MapSamlMetadata(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/saml/{connectionId}/metadata", (string connectionId, ConnectionDirectory directory) =>
        {
            var connection = directory.FindConnectionOrDraft(connectionId);
            if (connection is null || connection.Options.Protocol != SamlConnector.ProtocolName)
            {
                return Results.NotFound();
            }

            var compiled = connection.Settings<SamlConnectionModel>();
            return Results.Text(SamlMetadata.WriteServiceProvider(compiled.ServiceProvider, connection.Options.RequireSignedAssertions, compiled.SignsRequests), ContentType);
        });
        return endpoints;
    }
}
