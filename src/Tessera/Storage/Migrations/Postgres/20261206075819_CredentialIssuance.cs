using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tessera.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class CredentialIssuance : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Attributes",
                table: "users",
                type: "text",
                nullable: false,
                defaultValue: "");

            migrationBuilder.CreateTable(
                name: "credential_nonces",
                columns: table => new
                {
                    NonceHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_credential_nonces", x => x.NonceHash);
                });

            migrationBuilder.CreateTable(
                name: "credential_offers",
                columns: table => new
                {
                    CodeHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ConfigurationId = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    UserId = table.Column<Guid>(type: "uuid", nullable: false),
                    OrganizationId = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    TransactionCodeHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    FailedAttempts = table.Column<int>(type: "integer", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UsedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_credential_offers", x => x.CodeHash);
                });

            migrationBuilder.CreateTable(
                name: "issued_credentials",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    UserId = table.Column<Guid>(type: "uuid", nullable: false),
                    OrganizationId = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    ConfigurationId = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    StatusList = table.Column<int>(type: "integer", nullable: false),
                    StatusIndex = table.Column<int>(type: "integer", nullable: false),
                    HolderKeyThumbprint = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    IssuedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    RevokedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    RevokedReason = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_issued_credentials", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_credential_nonces_ExpiresAt",
                table: "credential_nonces",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_credential_offers_ExpiresAt",
                table: "credential_offers",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_issued_credentials_StatusList_StatusIndex",
                table: "issued_credentials",
                columns: new[] { "StatusList", "StatusIndex" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_issued_credentials_UserId",
                table: "issued_credentials",
                column: "UserId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "credential_nonces");

            migrationBuilder.DropTable(
                name: "credential_offers");

            migrationBuilder.DropTable(
                name: "issued_credentials");

            migrationBuilder.DropColumn(
                name: "Attributes",
                table: "users");
        }
    }
}
