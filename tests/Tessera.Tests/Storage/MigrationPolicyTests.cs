using System.Reflection;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Operations;

namespace Tessera.Tests.Storage;

/// <summary>
/// Every migration only adds (expand, never contract in the same release), so during a rolling upgrade the nodes
/// still on the previous release keep working on the migrated schema: no table or column is dropped or renamed, a
/// column added to an existing table is nullable or has a default (an old node's insert does not name it), and no
/// column is made stricter. A contraction ships one release later, once no node of the release before runs.
/// </summary>
public sealed class MigrationPolicyTests
{
    public static TheoryData<string> Migrations()
    {
        var data = new TheoryData<string>();
        foreach (var type in MigrationTypes())
        {
            data.Add(type.FullName!);
        }

        return data;
    }

    private static IEnumerable<Type> MigrationTypes() =>
        typeof(Tessera.Storage.TesseraDbContext).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(Migration)) && !t.IsAbstract && t.GetCustomAttribute<MigrationAttribute>() is not null)
            .OrderBy(t => t.GetCustomAttribute<MigrationAttribute>()!.Id, StringComparer.Ordinal);

    [Fact]
    public void Both_providers_have_their_migrations()
    {
        var namespaces = MigrationTypes().GroupBy(t => t.Namespace).ToDictionary(g => g.Key!, g => g.Count());
        Assert.True(namespaces.GetValueOrDefault("Tessera.Storage.Migrations.Sqlite") > 5, "no SQLite migrations found");
        Assert.True(namespaces.GetValueOrDefault("Tessera.Storage.Migrations.Postgres") > 5, "no PostgreSQL migrations found");
    }

    [Theory]
    [MemberData(nameof(Migrations))]
    public void A_migration_only_adds_what_the_previous_release_can_run_on(string migration)
    {
        var instance = (Migration)Activator.CreateInstance(MigrationTypes().Single(t => t.FullName == migration))!;
        var operations = instance.UpOperations;
        var created = operations.OfType<CreateTableOperation>().Select(t => t.Name).ToHashSet(StringComparer.Ordinal);

        var refused = operations.Select(operation => operation switch
        {
            DropTableOperation drop => $"drops table {drop.Name}",
            DropColumnOperation drop => $"drops column {drop.Table}.{drop.Name}",
            RenameTableOperation rename => $"renames table {rename.Name}",
            RenameColumnOperation rename => $"renames column {rename.Table}.{rename.Name}",
            AddColumnOperation add when !created.Contains(add.Table) && !add.IsNullable && add.DefaultValue is null
                && add.DefaultValueSql is null && add.ComputedColumnSql is null =>
                $"adds {add.Table}.{add.Name} as NOT NULL without a default",
            AlterColumnOperation alter when alter.OldColumn.IsNullable && !alter.IsNullable => $"makes {alter.Table}.{alter.Name} NOT NULL",
            AlterColumnOperation alter when alter.OldColumn.ClrType is { } old && old != alter.ClrType => $"changes the type of {alter.Table}.{alter.Name}",
            _ => null,
        }).OfType<string>().ToList();

        Assert.True(refused.Count == 0, $"{migration} {string.Join("; ", refused)}: the nodes still on the previous release would fail on it during a rolling upgrade");
    }
}
