using Microsoft.EntityFrameworkCore.Migrations;
using NpgsqlTypes;

#nullable disable

namespace Heimdex.Shared.Data.Migrations
{
    /// <inheritdoc />
    public partial class SceneSearchDocument : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterDatabase()
                .Annotation("Npgsql:PostgresExtension:pg_trgm", ",,");

            migrationBuilder.AddColumn<NpgsqlTsVector>(
                name: "Document",
                table: "Scenes",
                type: "tsvector",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "SearchText",
                table: "Scenes",
                type: "text",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_Scenes_Document",
                table: "Scenes",
                column: "Document")
                .Annotation("Npgsql:IndexMethod", "gin");

            migrationBuilder.CreateIndex(
                name: "IX_Scenes_SearchText",
                table: "Scenes",
                column: "SearchText")
                .Annotation("Npgsql:IndexMethod", "gin")
                .Annotation("Npgsql:IndexOperators", new[] { "gin_trgm_ops" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Scenes_Document",
                table: "Scenes");

            migrationBuilder.DropIndex(
                name: "IX_Scenes_SearchText",
                table: "Scenes");

            migrationBuilder.DropColumn(
                name: "Document",
                table: "Scenes");

            migrationBuilder.DropColumn(
                name: "SearchText",
                table: "Scenes");

            migrationBuilder.AlterDatabase()
                .OldAnnotation("Npgsql:PostgresExtension:pg_trgm", ",,");
        }
    }
}
