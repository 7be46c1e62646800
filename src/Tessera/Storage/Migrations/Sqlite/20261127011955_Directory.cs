using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tessera.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Directory : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "TokensValidAfter",
                table: "users",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "directory_groups",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    OrganizationId = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    DisplayName = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    DisplayNameKey = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    ExternalId = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    Version = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_directory_groups", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "directory_users",
                columns: table => new
                {
                    UserId = table.Column<Guid>(type: "TEXT", nullable: false),
                    OrganizationId = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    UserName = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    UserNameKey = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    ExternalId = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    DisplayName = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    DisplayNameKey = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    Active = table.Column<bool>(type: "INTEGER", nullable: false),
                    Document = table.Column<string>(type: "TEXT", nullable: false),
                    Version = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_directory_users", x => x.UserId);
                    table.ForeignKey(
                        name: "FK_directory_users_users_UserId",
                        column: x => x.UserId,
                        principalTable: "users",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "scim_tokens",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    OrganizationId = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Description = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    RevokedAt = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_scim_tokens", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "directory_members",
                columns: table => new
                {
                    GroupId = table.Column<Guid>(type: "TEXT", nullable: false),
                    UserId = table.Column<Guid>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_directory_members", x => new { x.GroupId, x.UserId });
                    table.ForeignKey(
                        name: "FK_directory_members_directory_groups_GroupId",
                        column: x => x.GroupId,
                        principalTable: "directory_groups",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_directory_members_directory_users_UserId",
                        column: x => x.UserId,
                        principalTable: "directory_users",
                        principalColumn: "UserId",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "directory_user_values",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    UserId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Attribute = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    SubAttribute = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Ordinal = table.Column<int>(type: "INTEGER", nullable: false),
                    Key = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_directory_user_values", x => x.Id);
                    table.ForeignKey(
                        name: "FK_directory_user_values_directory_users_UserId",
                        column: x => x.UserId,
                        principalTable: "directory_users",
                        principalColumn: "UserId",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_directory_groups_OrganizationId_DisplayNameKey",
                table: "directory_groups",
                columns: new[] { "OrganizationId", "DisplayNameKey" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_directory_groups_OrganizationId_ExternalId",
                table: "directory_groups",
                columns: new[] { "OrganizationId", "ExternalId" });

            migrationBuilder.CreateIndex(
                name: "IX_directory_members_UserId",
                table: "directory_members",
                column: "UserId");

            migrationBuilder.CreateIndex(
                name: "IX_directory_user_values_Attribute_SubAttribute_Key",
                table: "directory_user_values",
                columns: new[] { "Attribute", "SubAttribute", "Key" });

            migrationBuilder.CreateIndex(
                name: "IX_directory_user_values_UserId_Attribute_Ordinal",
                table: "directory_user_values",
                columns: new[] { "UserId", "Attribute", "Ordinal" });

            migrationBuilder.CreateIndex(
                name: "IX_directory_users_OrganizationId_CreatedAt",
                table: "directory_users",
                columns: new[] { "OrganizationId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_directory_users_OrganizationId_DisplayNameKey",
                table: "directory_users",
                columns: new[] { "OrganizationId", "DisplayNameKey" });

            migrationBuilder.CreateIndex(
                name: "IX_directory_users_OrganizationId_ExternalId",
                table: "directory_users",
                columns: new[] { "OrganizationId", "ExternalId" });

            migrationBuilder.CreateIndex(
                name: "IX_directory_users_OrganizationId_UpdatedAt",
                table: "directory_users",
                columns: new[] { "OrganizationId", "UpdatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_directory_users_OrganizationId_UserNameKey",
                table: "directory_users",
                columns: new[] { "OrganizationId", "UserNameKey" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_scim_tokens_Hash",
                table: "scim_tokens",
                column: "Hash",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "directory_members");

            migrationBuilder.DropTable(
                name: "directory_user_values");

            migrationBuilder.DropTable(
                name: "scim_tokens");

            migrationBuilder.DropTable(
                name: "directory_groups");

            migrationBuilder.DropTable(
                name: "directory_users");

            migrationBuilder.DropColumn(
                name: "TokensValidAfter",
                table: "users");
        }
    }
}
