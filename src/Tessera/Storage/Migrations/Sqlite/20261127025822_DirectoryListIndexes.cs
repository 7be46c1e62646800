using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tessera.Storage.Migrations.Sqlite
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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_directory_users_OrganizationId_Active",
                table: "directory_users");
        }
    }
}
