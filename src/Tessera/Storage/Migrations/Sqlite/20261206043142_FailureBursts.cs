using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tessera.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class FailureBursts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "failure_counts",
                columns: table => new
                {
                    Key = table.Column<string>(type: "TEXT", maxLength: 160, nullable: false),
                    WindowStart = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Count = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_failure_counts", x => new { x.Key, x.WindowStart });
                });

            migrationBuilder.CreateTable(
                name: "lockouts",
                columns: table => new
                {
                    Key = table.Column<string>(type: "TEXT", maxLength: 160, nullable: false),
                    LockedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Until = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Strikes = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_lockouts", x => x.Key);
                });

            migrationBuilder.CreateIndex(
                name: "IX_failure_counts_WindowStart",
                table: "failure_counts",
                column: "WindowStart");

            migrationBuilder.CreateIndex(
                name: "IX_lockouts_Until",
                table: "lockouts",
                column: "Until");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "failure_counts");

            migrationBuilder.DropTable(
                name: "lockouts");
        }
    }
}
