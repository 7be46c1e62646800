using System.Security.Cryptography;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;
using Tessera.Credentials.SdJwt;
using Tessera.Credentials.Status;
using Tessera.Credentials.Vc;

namespace Tessera.Credentials.Benchmarks;

/// <summary>
/// The library's share of one issuance and one verification, single-threaded, without HTTP or a database: issuing the
/// age credential Tessera ships (the object and each age a disclosure of its own, decoys, ES256) and the employee
/// credential (four disclosable claims), and verifying a presentation of "over 21" alone with its key-binding JWT
/// (issuer signature, digests, key binding against <c>cnf</c>, <c>sd_hash</c>). Keys are P-256, as Tessera's.
/// </summary>
[MemoryDiagnoser]
public class CredentialBenchmarks
{
    private const string Issuer = "https://tessera.example/";
    private const string Verifier = "https://bar.example";
    private const string Nonce = "n-0S6_WzA2Mj";
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private readonly FakeTimeProvider _clock = new(Now);
    private readonly ECDsaSecurityKey _issuerKey = new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "issuer-1" };
    private readonly ECDsaSecurityKey _holderKey = new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "holder-1" };
    private SigningCredentials _issuerSigning = null!;
    private SdJwtVcIssuer _issuer = null!;
    private SdJwtVcVerifier _verifier = null!;
    private SdJwtVcIssuance _age = null!;
    private SdJwtVcIssuance _employee = null!;
    private SdJwtIssuerTrust _trust = null!;
    private readonly SdJwtVcVerificationPolicy _policy = new() { AllowedVcts = [Issuer + "credentials/types/age"] };
    private readonly KeyBindingExpectation _expectation = new(Verifier, Nonce);
    private string _presentation = "";

    [GlobalSetup]
    public void Setup()
    {
        _issuerSigning = new SigningCredentials(_issuerKey, SecurityAlgorithms.EcdsaSha256);
        _issuer = new SdJwtVcIssuer(_clock);
        _verifier = new SdJwtVcVerifier(_clock);
        var holderPublic = PublicJwk(_holderKey);
        _trust = new SdJwtIssuerTrust([PublicJwk(_issuerKey)]) { Issuer = Issuer };
        _age = new SdJwtVcIssuance
        {
            Vct = Issuer + "credentials/types/age",
            Issuer = Issuer,
            Claims = new JsonObject { ["age_equal_or_over"] = new JsonObject { ["18"] = true, ["21"] = true } },
            Disclosable = [ClaimPath.Of("age_equal_or_over"), ClaimPath.Of("age_equal_or_over", "18"), ClaimPath.Of("age_equal_or_over", "21")],
            Lifetime = TimeSpan.FromDays(30),
            HolderKey = holderPublic,
            Status = new StatusReference(70_213, Issuer + "credentials/status/1"),
        };
        _employee = _age with
        {
            Vct = Issuer + "credentials/types/employee",
            Claims = new JsonObject
            {
                ["org"] = "st-marys",
                ["role"] = "nurse",
                ["given_name"] = "Ana",
                ["family_name"] = "Lima",
                ["email"] = "ana.lima@stmarys.example",
            },
            Disclosable = [ClaimPath.Of("role"), ClaimPath.Of("given_name"), ClaimPath.Of("family_name"), ClaimPath.Of("email")],
            Lifetime = TimeSpan.FromDays(90),
        };

        var held = SdJwtHolder.Read(IssueAge()).Value ?? throw new InvalidOperationException("the issued credential does not read back");
        var disclosures = held.DisclosuresFor([ClaimPath.Of("age_equal_or_over", "21")]).Value ?? throw new InvalidOperationException("no disclosure for age 21");
        _presentation = new SdJwtHolder(_clock).Present(held, disclosures, new KeyBindingRequest(Verifier, Nonce, new SigningCredentials(_holderKey, SecurityAlgorithms.EcdsaSha256)));
        var verified = VerifyOver21().GetAwaiter().GetResult();
        if (!verified)
        {
            throw new InvalidOperationException("The benchmark presentation does not verify.");
        }

        Console.WriteLine($"// Sizes: age credential {IssueAge().Length} chars, employee credential {IssueEmployee().Length} chars, presentation {_presentation.Length} chars");
    }

    [Benchmark(Description = "issue the age credential (3 disclosures, ES256)")]
    public string IssueAge() => _issuer.Issue(_age, _issuerSigning).Value!.Serialized;

    [Benchmark(Description = "issue the employee credential (4 disclosures, ES256)")]
    public string IssueEmployee() => _issuer.Issue(_employee, _issuerSigning).Value!.Serialized;

    [Benchmark(Description = "verify a presentation of age 21 with key binding")]
    public async Task<bool> VerifyOver21() => (await _verifier.VerifyAsync(_presentation, _trust, _policy, _expectation)).Succeeded;

    private static JsonWebKey PublicJwk(ECDsaSecurityKey key)
    {
        var parameters = key.ECDsa.ExportParameters(includePrivateParameters: false);
        return new JsonWebKey
        {
            Kty = JsonWebAlgorithmsKeyTypes.EllipticCurve,
            Crv = JsonWebKeyECTypes.P256,
            X = Base64UrlEncoder.Encode(parameters.Q.X!),
            Y = Base64UrlEncoder.Encode(parameters.Q.Y!),
            Kid = key.KeyId,
        };
    }
}
