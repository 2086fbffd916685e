using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Heimdex.Shared.Data.Migrations
{
    /// <inheritdoc />
    public partial class SceneWordsRankedByIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterDatabase()
                .Annotation("Npgsql:PostgresExtension:btree_gin", ",,")
                .Annotation("Npgsql:PostgresExtension:pg_trgm", ",,")
                .Annotation("Npgsql:PostgresExtension:rum", ",,")
                .OldAnnotation("Npgsql:PostgresExtension:btree_gin", ",,")
                .OldAnnotation("Npgsql:PostgresExtension:pg_trgm", ",,");

            migrationBuilder.CreateIndex(
                name: "IX_Scenes_OwnerId",
                table: "Scenes",
                column: "OwnerId");

            // Search reads a large owner's scenes with some of the query's words in rank order (ORDER BY "Document"
            // <=> query) from this index; it matches the owner by "OwnerId"::text, as search must write it.
            migrationBuilder.Sql("""
                CREATE INDEX "IX_Scenes_Document_OwnerText" ON "Scenes"
                USING rum ("Document" rum_tsvector_ops, ("OwnerId"::text) rum_text_ops);
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""DROP INDEX "IX_Scenes_Document_OwnerText";""");

            migrationBuilder.DropIndex(
                name: "IX_Scenes_OwnerId",
                table: "Scenes");

            migrationBuilder.AlterDatabase()
                .Annotation("Npgsql:PostgresExtension:btree_gin", ",,")
                .Annotation("Npgsql:PostgresExtension:pg_trgm", ",,")
                .OldAnnotation("Npgsql:PostgresExtension:btree_gin", ",,")
                .OldAnnotation("Npgsql:PostgresExtension:pg_trgm", ",,")
                .OldAnnotation("Npgsql:PostgresExtension:rum", ",,");
        }
    }
}
