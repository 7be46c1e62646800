using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Tessera.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AuditCheckpoints : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "audit_checkpoints",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Count = table.Column<long>(type: "bigint", nullable: false),
                    HeadId = table.Column<long>(type: "bigint", nullable: false),
                    HeadHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Token = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_checkpoints", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_audit_checkpoints_HeadId",
                table: "audit_checkpoints",
                column: "HeadId",
                unique: true);

            // Checkpoints are append-only, like the rows they sign.
            migrationBuilder.Sql("CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;");
            migrationBuilder.Sql("CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION audit_append_only();");
            migrationBuilder.Sql("CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();");

            // Retention's one way to remove rows: up to the head of a checkpoint whose hash that row still has, and
            // never the newest row, so the rows kept verify from that checkpoint and the log is never left empty (an
            // empty log under a checkpoint reads as truncated). The append-only trigger is off only inside this
            // transaction, which holds the table against other writers meanwhile (DDL is transactional), so any other
            // DELETE is still refused. Pruning what another node already pruned removes nothing.
            migrationBuilder.Sql("""
                CREATE FUNCTION audit_events_prune(up_to bigint) RETURNS bigint
                LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
                DECLARE removed bigint;
                BEGIN
                    IF NOT EXISTS (SELECT 1 FROM audit_events WHERE "Id" <= up_to) THEN
                        RETURN 0;
                    END IF;
                    IF NOT EXISTS (SELECT 1 FROM audit_checkpoints c JOIN audit_events e ON e."Id" = c."HeadId" AND e."Hash" = c."HeadHash" WHERE c."HeadId" = up_to)
                       OR NOT EXISTS (SELECT 1 FROM audit_events WHERE "Id" > up_to) THEN
                        RAISE EXCEPTION 'audit_events can be pruned only up to the head of a checkpoint with rows after it, and row % is none', up_to;
                    END IF;
                    ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete;
                    DELETE FROM audit_events WHERE "Id" <= up_to;
                    GET DIAGNOSTICS removed = ROW_COUNT;
                    ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete;
                    RETURN removed;
                END $$;
                """);
            migrationBuilder.Sql("REVOKE ALL ON FUNCTION audit_events_prune(bigint) FROM PUBLIC;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS audit_events_prune(bigint);");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS audit_checkpoints_no_truncate ON audit_checkpoints;");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS audit_checkpoints_no_update_delete ON audit_checkpoints;");
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS audit_append_only();");

            migrationBuilder.DropTable(
                name: "audit_checkpoints");
        }
    }
}
