using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Tessera.Storage;

namespace Tessera.Scim.Benchmarks;

/// <summary>
/// Writes what a context has added, table by table, outside EF's change tracking: one transaction of prepared inserts
/// on SQLite, binary COPY on PostgreSQL. Values are stored as EF stores them (on SQLite: Guids as upper-case text).
/// </summary>
internal static class BulkWriter
{
    public static async Task WriteAsync(TesseraDbContext db)
    {
        var added = db.ChangeTracker.Entries().Select(e => e.Entity).ToList();
        await db.Database.OpenConnectionAsync();
        var connection = db.Database.GetDbConnection();
        foreach (var entityType in new[] { typeof(UserRecord), typeof(DirectoryUserRecord), typeof(DirectoryUserValueRecord), typeof(DirectoryGroupRecord), typeof(DirectoryMemberRecord) })
        {
            var model = db.Model.FindEntityType(entityType)!;
            var table = model.GetTableName()!;
            var properties = model.GetProperties().Where(p => !(p.IsPrimaryKey() && p.ClrType == typeof(long))).ToList(); // the value rows' identity is the database's
            var rows = added.Where(e => e.GetType() == entityType).ToList();
            if (rows.Count == 0)
            {
                continue;
            }

            var columns = string.Join(", ", properties.Select(p => "\"" + p.GetColumnName() + "\""));
            if (connection is NpgsqlConnection npgsql)
            {
                await using var importer = await npgsql.BeginBinaryImportAsync($"COPY \"{table}\" ({columns}) FROM STDIN (FORMAT BINARY)");
                foreach (var row in rows)
                {
                    await importer.StartRowAsync();
                    foreach (var property in properties)
                    {
                        var value = property.PropertyInfo!.GetValue(row);
                        if (value is null)
                        {
                            await importer.WriteNullAsync();
                        }
                        else
                        {
                            await importer.WriteAsync(value is DateTime time ? DateTime.SpecifyKind(time, DateTimeKind.Utc) : value);
                        }
                    }
                }

                await importer.CompleteAsync();
                continue;
            }

            await using var transaction = await connection.BeginTransactionAsync();
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = $"INSERT INTO \"{table}\" ({columns}) VALUES ({string.Join(", ", properties.Select((_, i) => "$p" + i))})";
            var parameters = properties.Select((_, i) => new SqliteParameter("$p" + i, null)).ToArray();
            command.Parameters.AddRange(parameters);
            foreach (var row in rows)
            {
                for (var i = 0; i < properties.Count; i++)
                {
                    parameters[i].Value = properties[i].PropertyInfo!.GetValue(row) switch
                    {
                        Guid id => id.ToString().ToUpperInvariant(),
                        null => DBNull.Value,
                        var value => value,
                    };
                }

                await command.ExecuteNonQueryAsync();
            }

            await transaction.CommitAsync();
        }

        db.ChangeTracker.Clear();
    }
}
