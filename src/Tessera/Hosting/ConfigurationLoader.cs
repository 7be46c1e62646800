using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace Tessera.Hosting;

/// <summary>
/// Reads a configuration file plus <c>Tessera__*</c> environment overrides, refuses unknown keys and
/// unconvertible values, resolves <c>env:NAME</c> secrets and applies the defaults. What the options then mean is
/// checked once, by <see cref="ConfigurationCompiler"/>. A bad file is refused whole, with every error.
/// </summary>
public static class ConfigurationLoader
{
    private const string EnvironmentPrefix = "env:";

    public static ConfigurationLoadResult LoadFile(string path, IDictionary<string, string?>? overrides = null, Func<string, string?>? environment = null)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            return ConfigurationLoadResult.Failed(path, new ConfigurationError("$", "the file does not exist"));
        }

        // Parse once ourselves so a syntax error names line and position instead of a stack trace; the document also
        // gives inline JSON settings (a DCQL query, a JWKS) back exactly as written, with their types.
        JsonElement root;
        try
        {
            using var stream = File.OpenRead(fullPath);
            using var document = JsonDocument.Parse(stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return ConfigurationLoadResult.Failed(path, new ConfigurationError("$", "the file must hold a JSON object"));
            }

            root = document.RootElement.Clone();
        }
        catch (JsonException exception)
        {
            return ConfigurationLoadResult.Failed(path, new ConfigurationError(
                "$", $"not valid JSON (line {exception.LineNumber + 1}, position {exception.BytePositionInLine + 1})"));
        }

        var builder = new ConfigurationBuilder()
            .AddJsonFile(fullPath, optional: false, reloadOnChange: false)
            .AddEnvironmentVariables();
        if (overrides is not null)
        {
            builder.AddInMemoryCollection(overrides);
        }

        return Load(builder.Build(), path, environment, root);
    }

    public static ConfigurationLoadResult Load(IConfiguration configuration, string? file, Func<string, string?>? environment = null, JsonElement? source = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var section = configuration.GetSection(TesseraOptions.SectionName);
        if (!section.Exists())
        {
            return ConfigurationLoadResult.Failed(file, new ConfigurationError("$.Tessera", "the Tessera section is missing"));
        }

        var errors = new List<ConfigurationError>();
        var resolved = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        Inspect(section, typeof(TesseraOptions), errors, resolved, environment, source);
        if (errors.Count > 0)
        {
            return new ConfigurationLoadResult(null, errors, file);
        }

        var effective = new ConfigurationBuilder().AddInMemoryCollection(resolved).Build();
        var options = new TesseraOptions();
        effective.GetSection(TesseraOptions.SectionName).Bind(options);
        TesseraOptionsDefaults.Apply(options);
        return new ConfigurationLoadResult(options, [], file);
    }

    /// <summary>
    /// One resource in the file's shape, given as a JSON object (an Admin API body): the same checks and messages as
    /// the file, with paths relative to the object (<c>$.Authority</c>). <c>env:</c> references are refused: they
    /// name the server's environment, which only the file may read.
    /// </summary>
    public static (T? Options, IReadOnlyList<ConfigurationError> Errors) LoadResource<T>(JsonElement json) where T : class, new()
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            return (null, [new ConfigurationError("$", "expected a JSON object")]);
        }

        const string root = "Resource";
        var wrapped = System.Text.Encoding.UTF8.GetBytes($"{{\"{root}\":{json.GetRawText()}}}");
        IConfiguration configuration;
        try
        {
            configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(wrapped)).Build();
        }
        catch (FormatException exception)
        {
            // The configuration reader refuses keys that differ only in case, which JSON allows.
            return (null, [new ConfigurationError("$", $"not a configuration object: {exception.Message}")]);
        }

        var errors = new List<ConfigurationError>();
        var resolved = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var section = configuration.GetSection(root);
        using (var written = JsonDocument.Parse(wrapped))
        {
            Inspect(section, typeof(T), errors, resolved, environment: null, written.RootElement);
        }

        errors = errors.Select(e => e with { Path = "$" + e.Path["$.Resource".Length..] }).ToList();
        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var options = new T();
        new ConfigurationBuilder().AddInMemoryCollection(resolved).Build().GetSection(root).Bind(options);
        return (options, []);
    }

    /// <summary>Walks the configuration against the options type: unknown keys, wrong shapes and bad values become errors.</summary>
    private static void Inspect(IConfigurationSection section, Type type, List<ConfigurationError> errors, Dictionary<string, string?> resolved, Func<string, string?>? environment, JsonElement? source)
    {
        if (IsDictionary(type, out var valueType))
        {
            foreach (var child in section.GetChildren())
            {
                InspectValue(child, valueType, errors, resolved, environment, source);
            }

            return;
        }

        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (!properties.TryGetValue(child.Key, out var property))
            {
                errors.Add(new ConfigurationError(JsonPath(child.Path), $"unknown setting '{child.Key}' (known here: {string.Join(", ", properties.Keys.Order(StringComparer.Ordinal))})"));
                continue;
            }

            InspectValue(child, property.PropertyType, errors, resolved, environment, source, property.IsDefined(typeof(InlineJsonAttribute), inherit: false));
        }
    }

    private static void InspectValue(IConfigurationSection section, Type type, List<ConfigurationError> errors, Dictionary<string, string?> resolved, Func<string, string?>? environment, JsonElement? source, bool inlineJson = false)
    {
        var path = JsonPath(section.Path);
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        var hasChildren = section.GetChildren().Any();

        if (IsList(underlying, out var elementType))
        {
            if (section.Value is not null && !hasChildren)
            {
                if (section.Value.Length == 0)
                {
                    return; // an empty JSON array arrives as an empty value
                }

                errors.Add(new ConfigurationError(path, "expected a JSON array"));
                return;
            }

            foreach (var item in section.GetChildren())
            {
                if (!int.TryParse(item.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    errors.Add(new ConfigurationError(path, "expected a JSON array"));
                    return;
                }

                if (item.Value is null && !item.GetChildren().Any())
                {
                    // JSON null in a list would bind as a null entry that nothing downstream expects.
                    errors.Add(new ConfigurationError(JsonPath(item.Path), "must not be null"));
                    continue;
                }

                InspectValue(item, elementType, errors, resolved, environment, source);
            }

            return;
        }

        if (underlying == typeof(string) || underlying.IsPrimitive || underlying.IsEnum || underlying == typeof(TimeSpan) || underlying == typeof(decimal))
        {
            if (hasChildren)
            {
                // Inline JSON documents (a JWKS) are accepted as nested JSON and serialized back to text.
                if (underlying == typeof(string) && inlineJson)
                {
                    resolved[section.Path] = Find(source, section.Path) is { } written ? written.GetRawText() : SerializeSection(section);
                    return;
                }

                errors.Add(new ConfigurationError(path, $"expected a single value of type {Describe(underlying)}"));
                return;
            }

            var value = section.Value;
            if (value is not null && value.StartsWith(EnvironmentPrefix, StringComparison.Ordinal) && underlying == typeof(string))
            {
                if (environment is null)
                {
                    errors.Add(new ConfigurationError(path, "env: references are read from the configuration file only; give the value itself"));
                    return;
                }

                var name = value[EnvironmentPrefix.Length..];
                var secret = string.IsNullOrWhiteSpace(name) ? null : environment(name);
                if (string.IsNullOrEmpty(secret))
                {
                    errors.Add(new ConfigurationError(path, $"environment variable '{name}' is not set"));
                    return;
                }

                resolved[section.Path] = secret;
                return;
            }

            if (value is not null && underlying != typeof(string) && !TryConvert(value, underlying))
            {
                errors.Add(new ConfigurationError(path, $"'{value}' is not a valid {Describe(underlying)}"));
                return;
            }

            resolved[section.Path] = value;
            return;
        }

        if (section.Value is not null && !hasChildren)
        {
            if (section.Value.Length == 0)
            {
                return;
            }

            errors.Add(new ConfigurationError(path, "expected a JSON object"));
            return;
        }

        Inspect(section, underlying, errors, resolved, environment, source);
    }

    /// <summary>
    /// The element a configuration path (<c>Tessera:Presentations:0:Query</c>) names in the JSON it was read from, keys
    /// compared as configuration compares them (ignoring case); null when that JSON does not hold it (a setting from
    /// the environment), and the section is then written back from its string values.
    /// </summary>
    private static JsonElement? Find(JsonElement? source, string configurationPath)
    {
        if (source is not { } element)
        {
            return null;
        }

        foreach (var key in configurationPath.Split(ConfigurationPath.KeyDelimiter))
        {
            if (element.ValueKind == JsonValueKind.Object && element.EnumerateObject().FirstOrDefault(p => string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase)) is { Value.ValueKind: not JsonValueKind.Undefined } member)
            {
                element = member.Value;
            }
            else if (element.ValueKind == JsonValueKind.Array && int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < element.GetArrayLength())
            {
                element = element[index];
            }
            else
            {
                return null;
            }
        }

        return element;
    }

    private static string SerializeSection(IConfigurationSection section)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            WriteSection(writer, section);
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteSection(Utf8JsonWriter writer, IConfigurationSection section)
    {
        var children = section.GetChildren().ToList();
        if (children.Count == 0)
        {
            writer.WriteStringValue(section.Value);
            return;
        }

        var isArray = children.All(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _));
        if (isArray)
        {
            writer.WriteStartArray();
            foreach (var child in children.OrderBy(c => int.Parse(c.Key, CultureInfo.InvariantCulture)))
            {
                WriteSection(writer, child);
            }

            writer.WriteEndArray();
            return;
        }

        writer.WriteStartObject();
        foreach (var child in children)
        {
            writer.WritePropertyName(child.Key);
            WriteSection(writer, child);
        }

        writer.WriteEndObject();
    }

    private static bool TryConvert(string value, Type type)
    {
        if (type == typeof(TimeSpan))
        {
            // "60" would parse as sixty days: a duration must be written with its units (hh:mm:ss or d.hh:mm:ss).
            return value.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out _);
        }

        if (type.IsEnum)
        {
            return Enum.TryParse(type, value, ignoreCase: true, out var parsed) && Enum.IsDefined(type, parsed!)
                && !int.TryParse(value, CultureInfo.InvariantCulture, out _);
        }

        try
        {
            TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value);
            return true;
        }
        catch (Exception exception) when (exception is FormatException or NotSupportedException or ArgumentException)
        {
            return false;
        }
    }

    private static string Describe(Type type) => type switch
    {
        _ when type == typeof(TimeSpan) => "duration (hh:mm:ss or d.hh:mm:ss)",
        _ when type == typeof(bool) => "boolean",
        _ when type.IsEnum => $"choice ({string.Join(", ", Enum.GetNames(type))})",
        _ when type == typeof(int) || type == typeof(long) => "integer",
        _ => type.Name.ToLowerInvariant(),
    };

    private static bool IsList(Type type, out Type elementType)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            elementType = type.GetGenericArguments()[0];
            return true;
        }

        elementType = typeof(object);
        return false;
    }

    private static bool IsDictionary(Type type, out Type valueType)
    {
        if (type.IsGenericType && typeof(IDictionary).IsAssignableFrom(type))
        {
            valueType = type.GetGenericArguments()[1];
            return true;
        }

        valueType = typeof(object);
        return false;
    }

    /// <summary><c>Tessera:Clients:0:RedirectUris:1</c> becomes <c>$.Tessera.Clients[0].RedirectUris[1]</c>.</summary>
    public static string JsonPath(string configurationPath)
    {
        var builder = new System.Text.StringBuilder("$");
        foreach (var segment in configurationPath.Split(':'))
        {
            if (int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                builder.Append('[').Append(segment).Append(']');
            }
            else
            {
                builder.Append('.').Append(segment);
            }
        }

        return builder.ToString();
    }
}
