namespace Tessera.Hosting;

/// <summary>One reason a configuration is refused: where (a JSON path such as <c>$.Tessera.Clients[0].RedirectUris[1]</c>) and why.</summary>
public sealed record ConfigurationError(string Path, string Reason)
{
    public string Format(string? file) => file is null ? $"{Path}: {Reason}" : $"{file}: {Path}: {Reason}";
}

/// <summary>A loaded configuration: either options that passed every check, or every error found.</summary>
public sealed record ConfigurationLoadResult(TesseraOptions? Options, IReadOnlyList<ConfigurationError> Errors, string? File)
{
    public bool Succeeded => Options is not null && Errors.Count == 0;

    public static ConfigurationLoadResult Failed(string? file, params ConfigurationError[] errors) => new(null, errors, file);
}
