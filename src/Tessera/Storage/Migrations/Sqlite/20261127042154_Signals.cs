using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tessera.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Signals : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "signal_events",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Type = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    UserId = table.Column<Guid>(type: "TEXT", nullable: false),
                    OrganizationId = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    SessionId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    InitiatingEntity = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    OccurredAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_signal_events", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "signal_deliveries",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    EventId = table.Column<long>(type: "INTEGER", nullable: false),
                    Channel = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Destination = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    TokenId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    NextAttemptAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    LeasedUntil = table.Column<DateTime>(type: "TEXT", nullable: true),
                    CompletedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    Outcome = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    LastError = table.Column<string>(type: "TEXT", maxLength: 300, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_signal_deliveries", x => x.Id);
                    table.ForeignKey(
                        name: "FK_signal_deliveries_signal_events_EventId",
                        column: x => x.EventId,
                        principalTable: "signal_events",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_session_authorizations_AuthorizationId",
                table: "session_authorizations",
                column: "AuthorizationId");

            migrationBuilder.CreateIndex(
                name: "IX_signal_deliveries_CompletedAt_Channel_Destination_Id",
                table: "signal_deliveries",
                columns: new[] { "CompletedAt", "Channel", "Destination", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_signal_deliveries_EventId",
                table: "signal_deliveries",
                column: "EventId");

            migrationBuilder.CreateIndex(
                name: "IX_signal_deliveries_TokenId",
                table: "signal_deliveries",
                column: "TokenId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_signal_events_OccurredAt",
                table: "signal_events",
                column: "OccurredAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "signal_deliveries");

            migrationBuilder.DropTable(
                name: "signal_events");

            migrationBuilder.DropIndex(
                name: "IX_session_authorizations_AuthorizationId",
                table: "session_authorizations");
        }
    }
}
