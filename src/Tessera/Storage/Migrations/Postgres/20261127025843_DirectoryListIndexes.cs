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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""DROP INDEX "IX_directory_users_OrganizationId_DisplayNameKey_C";""");
            migrationBuilder.Sql("""DROP INDEX "IX_directory_users_OrganizationId_UserNameKey_C";""");
            migrationBuilder.Sql("""DROP INDEX "IX_directory_user_values_Attribute_SubAttribute_Key_C";""");

            migrationBuilder.DropIndex(
                name: "IX_directory_users_OrganizationId_Active",
                table: "directory_users");
        }
    }
}
