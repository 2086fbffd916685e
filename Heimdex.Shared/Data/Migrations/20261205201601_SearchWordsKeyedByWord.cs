using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Heimdex.Shared.Data.Migrations
{
    /// <inheritdoc />
    public partial class SearchWordsKeyedByWord : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_SearchWords",
                table: "SearchWords");

            migrationBuilder.DropIndex(
                name: "IX_SearchWords_OwnerId_Word",
                table: "SearchWords");

            migrationBuilder.AddPrimaryKey(
                name: "PK_SearchWords",
                table: "SearchWords",
                columns: new[] { "Word", "OwnerId" });

            migrationBuilder.CreateIndex(
                name: "IX_SearchWords_OwnerId_Word",
                table: "SearchWords",
                columns: new[] { "OwnerId", "Word" })
                .Annotation("Npgsql:IndexMethod", "gin")
                .Annotation("Npgsql:IndexOperators", new[] { "uuid_ops", "gin_trgm_ops" })
                .Annotation("Npgsql:StorageParameter:fastupdate", false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_SearchWords",
                table: "SearchWords");

            migrationBuilder.DropIndex(
                name: "IX_SearchWords_OwnerId_Word",
                table: "SearchWords");

            migrationBuilder.AddPrimaryKey(
                name: "PK_SearchWords",
                table: "SearchWords",
                columns: new[] { "OwnerId", "Word" });

            migrationBuilder.CreateIndex(
                name: "IX_SearchWords_OwnerId_Word",
                table: "SearchWords",
                columns: new[] { "OwnerId", "Word" })
                .Annotation("Npgsql:IndexMethod", "gin")
                .Annotation("Npgsql:IndexOperators", new[] { "uuid_ops", "gin_trgm_ops" });
        }
    }
}
