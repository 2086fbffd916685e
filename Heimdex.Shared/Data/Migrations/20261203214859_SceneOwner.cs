using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Heimdex.Shared.Data.Migrations
{
    /// <inheritdoc />
    public partial class SceneOwner : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Scenes_Document",
                table: "Scenes");

            migrationBuilder.AlterDatabase()
                .Annotation("Npgsql:PostgresExtension:btree_gin", ",,")
                .Annotation("Npgsql:PostgresExtension:pg_trgm", ",,")
                .OldAnnotation("Npgsql:PostgresExtension:pg_trgm", ",,");

            migrationBuilder.AddColumn<Guid>(
                name: "OwnerId",
                table: "Scenes",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            // Every scene has a video: each takes its video's owner, and new scenes name theirs.
            migrationBuilder.Sql("""
                UPDATE "Scenes" s SET "OwnerId" = v."OwnerId" FROM "Videos" v WHERE v."Id" = s."VideoId";
                ALTER TABLE "Scenes" ALTER COLUMN "OwnerId" DROP DEFAULT;
                """);

            migrationBuilder.CreateIndex(
                name: "IX_Scenes_OwnerId_Document",
                table: "Scenes",
                columns: new[] { "OwnerId", "Document" })
                .Annotation("Npgsql:IndexMethod", "gin");

            migrationBuilder.AddForeignKey(
                name: "FK_Scenes_Users_OwnerId",
                table: "Scenes",
                column: "OwnerId",
                principalTable: "Users",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Scenes_Users_OwnerId",
                table: "Scenes");

            migrationBuilder.DropIndex(
                name: "IX_Scenes_OwnerId_Document",
                table: "Scenes");

            migrationBuilder.DropColumn(
                name: "OwnerId",
                table: "Scenes");

            migrationBuilder.AlterDatabase()
                .Annotation("Npgsql:PostgresExtension:pg_trgm", ",,")
                .OldAnnotation("Npgsql:PostgresExtension:btree_gin", ",,")
                .OldAnnotation("Npgsql:PostgresExtension:pg_trgm", ",,");

            migrationBuilder.CreateIndex(
                name: "IX_Scenes_Document",
                table: "Scenes",
                column: "Document")
                .Annotation("Npgsql:IndexMethod", "gin");
        }
    }
}
