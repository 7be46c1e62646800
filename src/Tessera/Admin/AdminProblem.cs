using Tessera.Hosting;

namespace Tessera.Admin;

/// <summary>
/// An Admin API error as an RFC 9457 problem detail: <c>title</c>, <c>status</c>, <c>detail</c>, plus a stable
/// <c>code</c> and, for configuration that does not compile, <c>errors</c>: each JSON path with its reason, the same
/// messages the file loader prints.
/// </summary>
public sealed class AdminProblem(int status, string code, string title, string detail) : Exception(detail)
{
    public const string ContentType = "application/problem+json";

    public int Status { get; } = status;

    public string Code { get; } = code;

    public string Title { get; } = title;

    public IReadOnlyList<ConfigurationError> Errors { get; init; } = [];

    public static AdminProblem BadRequest(string detail) => new(StatusCodes.Status400BadRequest, "invalid_request", "The request is malformed", detail);

    public static AdminProblem Invalid(IReadOnlyList<ConfigurationError> errors) =>
        new(StatusCodes.Status400BadRequest, "invalid_configuration", "The configuration does not compile",
            string.Join("\n", errors.Select(e => $"{e.Path}: {e.Reason}")))
        { Errors = errors };

    public static AdminProblem NotFound(string what) => new(StatusCodes.Status404NotFound, "not_found", "Not found", $"No {what}.");

    public static AdminProblem ManagedByFile(string what) => new(StatusCodes.Status409Conflict, "managed_by_file", "Managed by the configuration file",
        $"{what} is declared in the configuration file; change it there (the Admin API changes only what it manages).");

    public static AdminProblem Conflict(string detail) => new(StatusCodes.Status409Conflict, "conflict", "Conflict", detail);

    public static AdminProblem StaleVersion(string what) => new(StatusCodes.Status412PreconditionFailed, "precondition_failed", "The resource has changed",
        $"{what} has changed since the version in If-Match; read it again and repeat the change on the current version.");

    public IResult ToResult() => Results.Json(Body(), statusCode: Status, contentType: ContentType);

    public Dictionary<string, object?> Body()
    {
        var body = new Dictionary<string, object?>
        {
            ["type"] = "about:blank",
            ["title"] = Title,
            ["status"] = Status,
            ["detail"] = Message,
            ["code"] = Code,
        };
        if (Errors.Count > 0)
        {
            body["errors"] = Errors.Select(e => new Dictionary<string, string> { ["path"] = e.Path, ["reason"] = e.Reason }).ToList();
        }

        return body;
    }
}
