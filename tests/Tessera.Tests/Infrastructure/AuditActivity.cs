using Tessera.Audit;
using Tessera.Storage;

namespace Tessera.Tests.Infrastructure;

/// <summary>Rows in a test server's audit log to verify or tamper with, and checkpoints of them made on demand.</summary>
public static class AuditActivity
{
    /// <summary>Client-credentials requests, every third one with a wrong secret; returns the whole log once they are stored.</summary>
    public static async Task<List<AuditRecord>> WriteRowsAsync(TesseraTestServer server, int requests = 12)
    {
        using var http = server.CreateClient();
        for (var i = 0; i < requests; i++)
        {
            await Oauth.ClientCredentialsAsync(http, TestConfiguration.ServiceClient, i % 3 == 0 ? "wrong-secret-0123456789" : TestConfiguration.ServiceSecret);
        }

        return await server.AuditAsync();
    }

    /// <summary>A checkpoint of the head now, as the writer makes one when it is due.</summary>
    public static Task<AuditCheckpointRecord?> CheckpointAsync(TesseraTestServer server) =>
        server.Service<AuditCheckpointWriter>().CheckpointAsync(force: true, CancellationToken.None);
}
