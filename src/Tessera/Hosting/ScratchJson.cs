using System.Buffers;
using System.Text.Json;

namespace Tessera.Hosting;

/// <summary>
/// A UTF-8 JSON writer and its buffer, kept per thread, for JSON that is written and used up with no await in between
/// (hashed, or copied into a response): the hot paths then allocate neither a buffer nor the copies a growing one makes.
/// The writer has the default options, so it writes what <see cref="JsonSerializer"/> writes by default.
/// </summary>
internal static class ScratchJson
{
    /// <summary>A buffer grown past this (a row with a large detail) is not kept.</summary>
    private const int KeptCapacity = 64 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>The thread's writer, emptied; finish with <see cref="Written"/> before any await.</summary>
    public static Utf8JsonWriter Start()
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        return writer;
    }

    /// <summary>What <paramref name="writer"/> (from <see cref="Start"/>) wrote; valid until the thread's next <see cref="Start"/>.</summary>
    public static ReadOnlySpan<byte> Written(Utf8JsonWriter writer)
    {
        writer.Flush();
        var buffer = t_buffer!;
        if (buffer.Capacity > KeptCapacity)
        {
            (t_buffer, t_writer) = (null, null); // the writer holds the buffer too
        }

        return buffer.WrittenSpan;
    }
}
