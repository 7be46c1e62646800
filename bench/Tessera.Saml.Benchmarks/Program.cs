using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Tessera.Saml.Benchmarks.ResponseValidationBenchmarks).Assembly).Run(args);
