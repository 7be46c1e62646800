namespace Tessera.Hosting;

/// <summary>One reason a configuration is refused: where (a JSON path such as <c>$.Tessera.Clients[0].RedirectUris[1]</c>) and why.</summary>
public sealed record ConfigurationError(string Path, string Reason)
{
    public string Format(string? file) => file is null ? $"{Path}: {Reason}" : $"{file}: {Path}: {Reason}";
}

/// <summary>A read configuration file: either options (not yet checked: <see cref="ConfigurationCompiler"/> does that), or every error found reading it.</summary>
public sealed record ConfigurationLoadResult(TesseraOptions? Options, IReadOnlyList<ConfigurationError> Errors, string? File)
{
    public bool Succeeded => Options is not null && Errors.Count == 0;

    public static ConfigurationLoadResult Failed(string? file, params ConfigurationError[] errors) => new(null, errors, file);
}

/// <summary>A compiled configuration: either the model, or every error found, each with its JSON path.</summary>
public sealed record CompiledConfiguration(TesseraModel? Model, IReadOnlyList<ConfigurationError> Errors, string? File)
{
    public bool Succeeded => Model is not null && Errors.Count == 0;
}
