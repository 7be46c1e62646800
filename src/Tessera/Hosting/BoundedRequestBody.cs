namespace Tessera.Hosting;

/// <summary>Reads a request body no larger than a limit, whatever the client declares, so no endpoint buffers more than it will accept.</summary>
public static class BoundedRequestBody
{
    /// <summary>The body, or null when it is (or declares itself) longer than <paramref name="limit"/> bytes, or the server's own ceiling stopped it.</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, int limit)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }

        return buffer.ToArray();
    }
}
