using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Heimdex.Shared.Data.Migrations
{
    /// <inheritdoc />
    public partial class ScenesPendingListMergedSooner : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // A storage parameter, set in place: EF Core would rebuild the index, which over millions of scenes takes
            // minutes; the list already pending is merged by the next write that finds it over the new limit.
            migrationBuilder.Sql("""ALTER INDEX "IX_Scenes_OwnerId_Document" SET (gin_pending_list_limit = 256);""");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""ALTER INDEX "IX_Scenes_OwnerId_Document" RESET (gin_pending_list_limit);""");
        }
    }
}
