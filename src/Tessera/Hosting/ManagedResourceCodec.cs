using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Tessera.Keys;
using Tessera.Storage;

namespace Tessera.Hosting;

/// <summary>
/// How a managed resource is stored: its options as JSON in the file's shape, without secrets; its recoverable secrets
/// as AES-256-GCM ciphertext under the key-encryption key, bound to the resource's kind and id so ciphertext cannot be
/// moved to another row; a client's own secrets only as hashes.
/// </summary>
public sealed class ManagedResourceCodec(KeyEncryptionKey keyEncryptionKey)
{
    public static readonly JsonSerializerOptions Json = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    private static readonly Dictionary<string, PropertyInfo[]> SecretProperties = new(StringComparer.Ordinal)
    {
        [ManagedKinds.Connection] = [Property<ConnectionOptions>(nameof(ConnectionOptions.ClientSecret)), Property<ConnectionOptions>(nameof(ConnectionOptions.SpPrivateKey))],
        [ManagedKinds.SignalReceiver] = [Property<SignalReceiverOptions>(nameof(SignalReceiverOptions.Authorization))],
        [ManagedKinds.Client] = [Property<ClientOptions>(nameof(ClientOptions.ClientSecret))],
    };

    /// <summary>The settings of a kind that are secrets: never stored in clear, never shown, never audited.</summary>
    public static IReadOnlyList<string> SecretFields(string kind) =>
        SecretProperties.TryGetValue(kind, out var properties) ? properties.Select(p => p.Name).ToList() : [];

    /// <summary>The options with every secret field emptied: what responses and audit digests are made from.</summary>
    public static object Redacted(string kind, object options)
    {
        var copy = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(options, options.GetType(), Json), options.GetType(), Json)!;
        foreach (var property in SecretProperties.GetValueOrDefault(kind) ?? [])
        {
            property.SetValue(copy, null);
        }

        return copy;
    }

    public ManagedResource Read(ManagedResourceRecord record)
    {
        var options = JsonSerializer.Deserialize(record.Document, ManagedKinds.OptionsType(record.Kind), Json)
            ?? throw new JsonException($"The stored {record.Kind} '{record.Id}' is empty.");
        IReadOnlyList<ClientSecretHash> clientSecrets = [];
        if (record.ProtectedSecrets is { Length: > 0 } protectedSecrets)
        {
            var secrets = JsonSerializer.Deserialize<StoredSecrets>(keyEncryptionKey.Unprotect(protectedSecrets, AssociatedData(record.Kind, record.Id)), Json)!;
            foreach (var property in SecretProperties.GetValueOrDefault(record.Kind) ?? [])
            {
                if (secrets.Fields.TryGetValue(property.Name, out var value))
                {
                    property.SetValue(options, value);
                }
            }

            clientSecrets = secrets.ClientSecrets;
        }

        return new ManagedResource(record.Kind, record.Id, record.OrganizationId, options, record.Status, record.Version)
        {
            CreatedAt = record.CreatedAt,
            UpdatedAt = record.UpdatedAt,
            UpdatedBy = record.UpdatedBy,
            ClientSecrets = clientSecrets,
        };
    }

    /// <summary>Writes the resource's document and secrets into <paramref name="record"/> (kind and id already set).</summary>
    public void Write(ManagedResourceRecord record, ManagedResource resource)
    {
        var secrets = new StoredSecrets { ClientSecrets = [.. resource.ClientSecrets] };
        foreach (var property in SecretProperties.GetValueOrDefault(resource.Kind) ?? [])
        {
            if (property.GetValue(resource.Options) is string { Length: > 0 } value && resource.Kind != ManagedKinds.Client)
            {
                secrets.Fields[property.Name] = value;
            }
        }

        record.OrganizationId = resource.OrganizationId;
        record.Status = resource.Status;
        record.Document = JsonSerializer.Serialize(Redacted(resource.Kind, resource.Options), ManagedKinds.OptionsType(resource.Kind), Json);
        record.ProtectedSecrets = secrets.Fields.Count == 0 && secrets.ClientSecrets.Count == 0
            ? null
            : keyEncryptionKey.Protect(JsonSerializer.SerializeToUtf8Bytes(secrets, Json), AssociatedData(resource.Kind, resource.Id));
    }

    /// <summary>A digest of what a change did, for the audit row: the resource without its secrets, plus which secrets changed.</summary>
    public static string Digest(ManagedResource? resource)
    {
        if (resource is null)
        {
            return "none";
        }

        var redacted = JsonSerializer.SerializeToUtf8Bytes(Redacted(resource.Kind, resource.Options), ManagedKinds.OptionsType(resource.Kind), Json);
        var secretIds = string.Join(',', resource.ClientSecrets.Select(s => s.Id));
        var material = redacted.Concat(System.Text.Encoding.UTF8.GetBytes($"|{resource.Status}|{secretIds}")).ToArray();
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(material));
    }

    private static string AssociatedData(string kind, string id) => $"managed:{kind}:{id}";

    private static PropertyInfo Property<T>(string name) => typeof(T).GetProperty(name)!;

    private sealed class StoredSecrets
    {
        public Dictionary<string, string> Fields { get; set; } = new(StringComparer.Ordinal);
        public List<ClientSecretHash> ClientSecrets { get; set; } = [];
    }
}
