namespace Tessera.Directory;

/// <summary>Bounds on what a SCIM client may send, checked before anything is stored (the body size is RequestLimits.MaxBodyBytes.Scim).</summary>
public static class ScimLimits
{
    /// <summary>Operations in one PATCH request.</summary>
    public const int MaxOperations = 1000;

    /// <summary>Values of one multi-valued attribute (group members excepted: those live in their own table).</summary>
    public const int MaxValues = 100;

    /// <summary>Characters of one string value; longer values are refused rather than cut.</summary>
    public const int MaxStringLength = 1024;

    /// <summary>Characters of one binary value (a certificate, base64).</summary>
    public const int MaxBinaryLength = 16 * 1024;

    /// <summary>Resources in one page of a list (ServiceProviderConfig <c>filter.maxResults</c>).</summary>
    public const int MaxResults = 1000;

    /// <summary>Members in one group.</summary>
    public const int MaxMembers = 100_000;
}
