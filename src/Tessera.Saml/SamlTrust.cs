using System.Security.Cryptography.X509Certificates;

namespace Tessera.Saml;

/// <summary>The identity provider a connection trusts: who it is, where it signs users in, which keys sign for it.</summary>
public sealed record SamlIdentityProvider(string EntityId, Uri SingleSignOnUrl, IReadOnlyList<X509Certificate2> SigningCertificates)
{
    /// <summary>The IdP's metadata asks for signed AuthnRequests (WantAuthnRequestsSigned).</summary>
    public bool WantsSignedRequests { get; init; }
}

/// <summary>Tessera as the service provider of one connection.</summary>
public sealed record SamlServiceProvider(string EntityId, Uri AssertionConsumerServiceUrl)
{
    public string? NameIdFormat { get; init; }

    /// <summary>Signs AuthnRequests (private key required) and is published in metadata.</summary>
    public X509Certificate2? SigningCertificate { get; init; }

    /// <summary>Decrypts EncryptedAssertions (private key required) and is published in metadata.</summary>
    public X509Certificate2? DecryptionCertificate { get; init; }
}

/// <summary>How strict validation is for one connection. The defaults are the safe ones.</summary>
public sealed record SamlPolicy
{
    /// <summary>When true (the default) the assertion itself must be signed; otherwise a signed Response covering it suffices.</summary>
    public bool RequireSignedAssertions { get; init; } = true;

    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Configuration names of accepted signature methods (see <see cref="SamlNames.SignatureAlgorithms"/>).</summary>
    public IReadOnlyList<string> AllowedAlgorithms { get; init; } = SamlNames.DefaultSignatureAlgorithms;

    /// <summary>SHA-1 signatures and digests are refused unless this is set (and RSA-SHA1 is allowed).</summary>
    public bool AllowSha1 { get; init; }

    /// <summary>IdP-initiated (unsolicited) responses are refused unless this is set.</summary>
    public bool AllowUnsolicited { get; init; }

    /// <summary>Upper bound of the decoded XML document, checked before parsing.</summary>
    public int MaxResponseBytes { get; init; } = 256 * 1024;
}

/// <summary>Remembers assertion IDs until they expire, so an assertion is accepted once.</summary>
public interface ISamlReplayCache
{
    /// <summary>Records the ID; false when it was already recorded.</summary>
    ValueTask<bool> TryRecordAsync(string issuer, string assertionId, DateTimeOffset expiresAt, CancellationToken cancellationToken);
}
