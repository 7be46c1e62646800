using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Time.Testing;
using Tessera.Saml.Tests.Infrastructure;
using static Tessera.Saml.Tests.Infrastructure.TestSamlIdentityProvider;

namespace Tessera.Saml.Benchmarks;

/// <summary>
/// Single-threaded validation of a typical ~8 KB SAML Response (RSA-2048, RSA-SHA256, exclusive c14n): decode,
/// parse, signature check, every rule. The replay check is a database insert in production and is left out.
/// </summary>
[MemoryDiagnoser]
public class ResponseValidationBenchmarks
{
    private readonly SamlResponseValidator _validator = new(new FakeTimeProvider(SamlResponseSpec.Now));
    private readonly SamlTrust _trust = Trust();
    private string _signedAssertion = "";
    private string _signedBoth = "";

    [GlobalSetup]
    public void Setup()
    {
        // What a large IdP sends: profile attributes, roles and group ids bring the document to about 8 KB.
        var spec = new SamlResponseSpec
        {
            NameIdXml = "7c0d2f4e-91ab-4c3d-8e5f-60718293a4b5",
            Attributes =
            [
                ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "ana.lima@stmarys.example"),
                ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "Ana"),
                ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "Lima"),
                ("http://schemas.microsoft.com/identity/claims/displayname", "Dr. Ana Lima"),
                ("Role", "doctor"), ("Role", "staff"), ("Role", "on-call"),
                ("ProviderID", "P-123456"),
                ("department", "Cardiology"),
                .. Enumerable.Range(1, 38).Select(i => ("http://schemas.microsoft.com/ws/2008/06/identity/claims/groups", $"9f1c2b7e-4d3a-4e8b-a1c{i:D2}-5d6e7f8091{i:D2}")),
            ],
        };
        var document = Build(spec);
        Sign(Assertion(document));
        _signedAssertion = Encode(document);
        Sign(Response(document));
        _signedBoth = Encode(document);

        foreach (var value in new[] { _signedAssertion, _signedBoth })
        {
            var result = _validator.Validate(value, _trust, RequestId);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"The benchmark response does not validate: {result.Failure}");
            }
        }

        Console.WriteLine($"// Response sizes: signed assertion {Convert.FromBase64String(_signedAssertion).Length} bytes, both signed {Convert.FromBase64String(_signedBoth).Length} bytes");
    }

    [Benchmark(Baseline = true, Description = "8 KB response, signed assertion")]
    public bool SignedAssertion() => _validator.Validate(_signedAssertion, _trust, RequestId).Succeeded;

    [Benchmark(Description = "8 KB response, response and assertion signed")]
    public bool SignedResponseAndAssertion() => _validator.Validate(_signedBoth, _trust, RequestId).Succeeded;
}
