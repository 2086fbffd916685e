using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Heimdex.Shared.Data.Migrations
{
    /// <inheritdoc />
    public partial class SearchVocabulary : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Scenes_SearchText",
                table: "Scenes");

            migrationBuilder.CreateTable(
                name: "SearchWords",
                columns: table => new
                {
                    OwnerId = table.Column<Guid>(type: "uuid", nullable: false),
                    Word = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SearchWords", x => new { x.OwnerId, x.Word });
                    table.ForeignKey(
                        name: "FK_SearchWords_Users_OwnerId",
                        column: x => x.OwnerId,
                        principalTable: "Users",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_SearchWords_Word",
                table: "SearchWords",
                column: "Word")
                .Annotation("Npgsql:IndexMethod", "gin")
                .Annotation("Npgsql:IndexOperators", new[] { "gin_trgm_ops" });

            // The vocabulary of libraries indexed before it existed.
            migrationBuilder.Sql("""
                INSERT INTO "SearchWords" ("OwnerId", "Word")
                SELECT DISTINCT v."OwnerId", word
                FROM "Scenes" s JOIN "Videos" v ON v."Id" = s."VideoId",
                     regexp_split_to_table(lower(concat_ws(' ', v."Title", s."SearchText", v."Description")), '[^[:alnum:]]+') AS word
                WHERE length(word) BETWEEN 3 AND 64
                ON CONFLICT DO NOTHING
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "SearchWords");

            migrationBuilder.CreateIndex(
                name: "IX_Scenes_SearchText",
                table: "Scenes",
                column: "SearchText")
                .Annotation("Npgsql:IndexMethod", "gin")
                .Annotation("Npgsql:IndexOperators", new[] { "gin_trgm_ops" });
        }
    }
}
