namespace Tessera.Directory;

/// <summary>
/// A request the SCIM service refuses (RFC 7644 §3.12): the HTTP status, the <c>scimType</c> where one applies, and
/// a detail for the client's administrator. Raised while a request is read, before anything is stored; the endpoint
/// turns it into the SCIM error response.
/// </summary>
public sealed class ScimException(int status, string? scimType, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string? ScimType { get; } = scimType;

    public static ScimException InvalidValue(string detail) => new(400, "invalidValue", detail);

    public static ScimException InvalidSyntax(string detail) => new(400, "invalidSyntax", detail);

    public static ScimException InvalidPath(string detail) => new(400, "invalidPath", detail);

    public static ScimException NoTarget(string detail) => new(400, "noTarget", detail);

    public static ScimException Mutability(string detail) => new(400, "mutability", detail);

    public static ScimException InvalidFilter(string detail) => new(400, "invalidFilter", detail);

    public static ScimException Uniqueness(string detail) => new(409, "uniqueness", detail);

    public static ScimException TooMany(string detail) => new(400, "tooMany", detail);

    public static ScimException NotFound(string detail) => new(404, null, detail);

    public static ScimException PreconditionFailed(string detail) => new(412, null, detail);
}
