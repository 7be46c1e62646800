using BenchmarkDotNet.Attributes;

namespace Tessera.Validation.Benchmarks;

/// <summary>A token validated before: the cache answers (lookup on the token string, expiry and recheck comparisons).</summary>
[MemoryDiagnoser]
public class CachedValidationBenchmarks
{
    private BenchmarkTessera _tessera = null!;
    private string _token = "";

    [Params("ES256", "RS256")]
    public string Algorithm { get; set; } = "ES256";

    [GlobalSetup]
    public void Setup()
    {
        _tessera = new BenchmarkTessera(Algorithm);
        _token = _tessera.NewToken(1);
        _tessera.MustValidate(_token);
        Console.WriteLine($"// {Algorithm} token: {_token.Length} characters");
    }

    [GlobalCleanup]
    public void Cleanup() => _tessera.Dispose();

    [Benchmark(Description = "cached token")]
    public bool Cached() => _tessera.Validator.ValidateAsync(_token).Result.IsValid;
}
