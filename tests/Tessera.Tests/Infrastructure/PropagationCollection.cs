namespace Tessera.Tests.Infrastructure;

/// <summary>
/// Tests that time how fast a change on one node reaches another, against a bound of one second: they run alone,
/// after the parallel ones, so that what they time is the propagation and not the rest of the suite on two cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PropagationCollection
{
    public const string Name = "Propagation";
}
