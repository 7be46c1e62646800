using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tessera.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class DirectoryListIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_directory_users_OrganizationId_Active",
                table: "directory_users",
                columns: new[] { "OrganizationId", "Active" });

            // Byte-order copies of the searched keys: under a locale collation PostgreSQL can use neither a plain
            // index for a prefix LIKE (SCIM "sw") nor one for the byte-wise comparisons filters make (COLLATE "C").
            migrationBuilder.Sql("""CREATE INDEX "IX_directory_user_values_Attribute_SubAttribute_Key_C" ON directory_user_values ("Attribute", "SubAttribute", "Key" COLLATE "C");""");
            migrationBuilder.Sql("""CREATE INDEX "IX_directory_users_OrganizationId_UserNameKey_C" ON directory_users ("OrganizationId", "UserNameKey" COLLATE "C");""");
            migrationBuilder.Sql("""CREATE INDEX "IX_directory_users_OrganizationId_DisplayNameKey_C" ON directory_users ("OrganizationId", "DisplayNameKey" COLLATE "C");""");

            // "userName co" (a substring) can use only a trigram index. pg_trgm ships with PostgreSQL and is a trusted
            // extension (a database owner may create it); where it is not available the filter still works, by a scan.
            migrationBuilder.Sql("""
                DO $$
                BEGIN
                    CREATE EXTENSION IF NOT EXISTS pg_trgm;
                    CREATE INDEX "IX_directory_users_UserNameKey_trgm" ON directory_users USING gin ("UserNameKey" gin_trgm_ops);
                EXCEPTION WHEN OTHERS THEN
                    RAISE NOTICE 'pg_trgm is not available (%); substring filters on userName will scan', SQLERRM;
                END
                $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""DROP INDEX IF EXISTS "IX_directory_users_UserNameKey_trgm";""");
            migrationBuilder.Sql("""DROP INDEX "IX_directory_users_OrganizationId_DisplayNameKey_C";""");
            migrationBuilder.Sql("""DROP INDEX "IX_directory_users_OrganizationId_UserNameKey_C";""");
            migrationBuilder.Sql("""DROP INDEX "IX_directory_user_values_Attribute_SubAttribute_Key_C";""");

            migrationBuilder.DropIndex(
                name: "IX_directory_users_OrganizationId_Active",
                table: "directory_users");
        }
    }
}
