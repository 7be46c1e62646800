using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tessera.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class RiskObservations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "Challenged",
                table: "pending_logins",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateTable(
                name: "risk_observations",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    UserId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    SessionId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    OrganizationId = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    ObservedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    IpAddress = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    Country = table.Column<string>(type: "TEXT", maxLength: 2, nullable: true),
                    City = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    Latitude = table.Column<double>(type: "REAL", nullable: true),
                    Longitude = table.Column<double>(type: "REAL", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_risk_observations", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_risk_observations_ObservedAt",
                table: "risk_observations",
                column: "ObservedAt");

            migrationBuilder.CreateIndex(
                name: "IX_risk_observations_SessionId",
                table: "risk_observations",
                column: "SessionId");

            migrationBuilder.CreateIndex(
                name: "IX_risk_observations_UserId_ObservedAt",
                table: "risk_observations",
                columns: new[] { "UserId", "ObservedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "risk_observations");

            migrationBuilder.DropColumn(
                name: "Challenged",
                table: "pending_logins");
        }
    }
}
