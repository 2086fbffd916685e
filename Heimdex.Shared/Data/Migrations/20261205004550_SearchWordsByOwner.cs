using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Heimdex.Shared.Data.Migrations
{
    /// <inheritdoc />
    public partial class SearchWordsByOwner : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_SearchWords_Word",
                table: "SearchWords");

            migrationBuilder.CreateIndex(
                name: "IX_SearchWords_OwnerId_Word",
                table: "SearchWords",
                columns: new[] { "OwnerId", "Word" })
                .Annotation("Npgsql:IndexMethod", "gin")
                .Annotation("Npgsql:IndexOperators", new[] { "uuid_ops", "gin_trgm_ops" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_SearchWords_OwnerId_Word",
                table: "SearchWords");

            migrationBuilder.CreateIndex(
                name: "IX_SearchWords_Word",
                table: "SearchWords",
                column: "Word")
                .Annotation("Npgsql:IndexMethod", "gin")
                .Annotation("Npgsql:IndexOperators", new[] { "gin_trgm_ops" });
        }
    }
}
