using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Tessera.Validation.Benchmarks.CachedValidationBenchmarks).Assembly).Run(args);
