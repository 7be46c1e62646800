using BenchmarkDotNet.Attributes;

namespace Tessera.Validation.Benchmarks;

/// <summary>
/// A token never seen before, every operation: parse, signature check, claims, revocation list, cache insert. The
/// tokens are signed beforehand (a pool as large as one iteration), and each iteration starts with an empty cache.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(PoolSize)]
public class FirstSeenValidationBenchmarks
{
    private const int PoolSize = 2048;

    private readonly List<string> _pool = new(PoolSize);
    private BenchmarkTessera _tessera = null!;
    private int _next;

    [Params("ES256", "RS256")]
    public string Algorithm { get; set; } = "ES256";

    [GlobalSetup]
    public void Setup()
    {
        _tessera = new BenchmarkTessera(Algorithm);
        for (var i = 0; i < PoolSize; i++)
        {
            _pool.Add(_tessera.NewToken(i));
        }

        _tessera.MustValidate(_pool[0]);
    }

    [IterationSetup]
    public void StartIteration()
    {
        // A fresh validator (empty cache) over the same key: every token in the pool is first seen again.
        _tessera.Reset();
        _next = 0;
    }

    [GlobalCleanup]
    public void Cleanup() => _tessera.Dispose();

    [Benchmark(Description = "first-seen token")]
    public bool FirstSeen() => _tessera.Validator.ValidateAsync(_pool[_next++]).Result.IsValid;
}
