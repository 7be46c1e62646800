using System.Buffers;

namespace Tessera.Hosting;

/// <summary>Reads a request body no larger than a limit, whatever the client declares, so no endpoint buffers more than it will accept.</summary>
public static class BoundedRequestBody
{
    private const int ChunkSize = 16 * 1024;

    /// <summary>The body, or null when it is (or declares itself) longer than <paramref name="limit"/> bytes, or the server's own ceiling stopped it.</summary>
    public static async ValueTask<byte[]?> ReadAsync(HttpRequest request, int limit)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        try
        {
            return request.ContentLength is { } declared
                ? await ReadDeclaredAsync(request, (int)declared)
                : await ReadChunkedAsync(request, limit);
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }
    }

    /// <summary>A body whose length is declared (and within the limit): read into an array of that size, nothing more.</summary>
    private static async ValueTask<byte[]?> ReadDeclaredAsync(HttpRequest request, int length)
    {
        var body = new byte[length];
        var filled = 0;
        while (filled < length)
        {
            var read = await request.Body.ReadAsync(body.AsMemory(filled), request.HttpContext.RequestAborted);
            if (read == 0)
            {
                return body[..filled]; // the client sent less than it declared; the server reports the mismatch itself
            }

            filled += read;
        }

        return body;
    }

    private static async ValueTask<byte[]?> ReadChunkedAsync(HttpRequest request, int limit)
    {
        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk.AsMemory(0, ChunkSize), request.HttpContext.RequestAborted)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }
}
