using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tessera.Hosting;

/// <summary>
/// A UTF-8 JSON writer and its buffer, kept per thread, for JSON that is written and used up with no await in between
/// (hashed, or copied into a response): the hot paths then allocate neither a buffer nor the copies a growing one makes.
/// <see cref="Start"/>'s writer has the default options, so it writes what <see cref="JsonSerializer"/> writes by
/// default; <see cref="StartRelaxed"/>'s escapes as <c>JsonWebTokenHandler</c> does. Both write into the same buffer.
/// </summary>
internal static class ScratchJson
{
    /// <summary>A buffer grown past this (a row with a large detail) is not kept.</summary>
    private const int KeptCapacity = 64 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_relaxed;

    private static readonly JsonWriterOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The thread's writer, emptied; finish with <see cref="Written"/> before any await.</summary>
    public static Utf8JsonWriter Start() => Start(ref t_writer, default);

    /// <summary>As <see cref="Start"/>, with <see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/>.</summary>
    public static Utf8JsonWriter StartRelaxed() => Start(ref t_relaxed, Relaxed);

    private static Utf8JsonWriter Start(ref Utf8JsonWriter? kept, JsonWriterOptions options)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = kept ??= new Utf8JsonWriter(buffer, options);
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
            (t_buffer, t_writer, t_relaxed) = (null, null, null); // the writers hold the buffer too
        }

        return buffer.WrittenSpan;
    }
}
