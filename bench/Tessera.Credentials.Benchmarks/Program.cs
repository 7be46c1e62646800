using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Tessera.Credentials.Benchmarks.CredentialBenchmarks).Assembly).Run(args);
