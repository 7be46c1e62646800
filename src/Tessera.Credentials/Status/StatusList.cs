using System.Buffers.Text;
using System.IO.Compression;
using System.Text.Json.Nodes;

namespace Tessera.Credentials.Status;

/// <summary>The status values draft-ietf-oauth-status-list §7.1 defines; 0x03 and above are application-specific.</summary>
public enum TokenStatus : byte
{
    Valid = 0x00,
    Invalid = 0x01,
    Suspended = 0x02,
}

/// <summary>
/// A Token Status List (draft-ietf-oauth-status-list §4): one status of <see cref="Bits"/> bits (1, 2, 4 or 8) per
/// referenced token, packed into bytes starting at the least significant bit, compressed with DEFLATE in the ZLIB
/// format and base64url-encoded as <c>lst</c>.
/// </summary>
public sealed class StatusList
{
    private readonly byte[] bytes;

    private StatusList(int bits, byte[] bytes)
    {
        Bits = bits;
        this.bytes = bytes;
    }

    /// <summary>A list of <paramref name="capacity"/> statuses, all VALID. The capacity is rounded up to whole bytes.</summary>
    public StatusList(int bits, int capacity)
    {
        if (!IsValidBits(bits))
        {
            throw new ArgumentOutOfRangeException(nameof(bits), "A status takes 1, 2, 4 or 8 bits.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Bits = bits;
        bytes = new byte[(int)(((long)capacity * bits + 7) / 8)];
    }

    public int Bits { get; }

    /// <summary>How many statuses the list holds.</summary>
    public int Count => (int)((long)bytes.Length * 8 / Bits);

    public static bool IsValidBits(int bits) => bits is 1 or 2 or 4 or 8;

    /// <summary>The status at <paramref name="index"/> (§4.1: index 0 is the least significant bits of the first byte).</summary>
    public byte this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            var (byteIndex, shift) = Locate(index);
            return (byte)((bytes[byteIndex] >> shift) & Mask);
        }
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            if (value > Mask)
            {
                throw new ArgumentOutOfRangeException(nameof(value), $"A {Bits}-bit status is at most {Mask}.");
            }

            var (byteIndex, shift) = Locate(index);
            bytes[byteIndex] = (byte)((bytes[byteIndex] & ~(Mask << shift)) | (value << shift));
        }
    }

    /// <summary>The status at <paramref name="index"/>, or the failure when the list has no such index (§8.3 step 6).</summary>
    public CredentialResult<StatusValue> Lookup(long index) => index >= 0 && index < Count
        ? CredentialResult<StatusValue>.Success(new StatusValue(this[(int)index]))
        : CredentialResult<StatusValue>.Fail(CredentialError.StatusIndexOutOfRange, "The status index is outside the status list.");

    /// <summary>A copy of the packed bytes, before compression.</summary>
    public byte[] ToBytes() => (byte[])bytes.Clone();

    /// <summary>The <c>lst</c> value: ZLIB (RFC 1950) of the bytes at the highest compression level, base64url.</summary>
    public string Compress()
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            zlib.Write(bytes);
        }

        return Base64Url.EncodeToString(output.ToArray());
    }

    /// <summary>The JSON object <c>{"bits": ..., "lst": ...}</c> of §4.2.</summary>
    public JsonObject ToJson() => new() { ["bits"] = Bits, ["lst"] = Compress() };

    /// <summary>
    /// Reads a list from its <c>bits</c> and <c>lst</c>. <paramref name="maxBytes"/> bounds the decompressed size, so a
    /// small <c>lst</c> cannot inflate into gigabytes.
    /// </summary>
    public static CredentialResult<StatusList> Decompress(int bits, string lst, int maxBytes = 16 * 1024 * 1024)
    {
        if (!IsValidBits(bits))
        {
            return CredentialResult<StatusList>.Fail(CredentialError.StatusListBitsInvalid, "The status list's bits is not 1, 2, 4 or 8.");
        }

        byte[] compressed;
        try
        {
            compressed = Base64Url.DecodeFromChars(lst);
        }
        catch (FormatException)
        {
            return CredentialResult<StatusList>.Fail(CredentialError.StatusListCompressionInvalid, "The status list's lst is not base64url.");
        }

        try
        {
            using var zlib = new ZLibStream(new MemoryStream(compressed), CompressionMode.Decompress);
            using var output = new MemoryStream();
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = zlib.Read(buffer)) > 0)
            {
                if (output.Length + read > maxBytes)
                {
                    return CredentialResult<StatusList>.Fail(CredentialError.TooLarge, "The status list inflates beyond the accepted size.");
                }

                output.Write(buffer, 0, read);
            }

            return output.Length == 0
                ? CredentialResult<StatusList>.Fail(CredentialError.StatusListCompressionInvalid, "The status list is empty.")
                : CredentialResult<StatusList>.Success(new StatusList(bits, output.ToArray()));
        }
        catch (InvalidDataException)
        {
            return CredentialResult<StatusList>.Fail(CredentialError.StatusListCompressionInvalid, "The status list's lst is not valid ZLIB data.");
        }
    }

    private int Mask => (1 << Bits) - 1;

    private (int ByteIndex, int Shift) Locate(int index)
    {
        var bit = (long)index * Bits;
        return ((int)(bit / 8), (int)(bit % 8));
    }
}

/// <summary>A status read from a list: the raw value and whether it is VALID.</summary>
public sealed record StatusValue(byte Value)
{
    public bool IsValid => Value == (byte)TokenStatus.Valid;

    public TokenStatus Status => (TokenStatus)Value;
}
