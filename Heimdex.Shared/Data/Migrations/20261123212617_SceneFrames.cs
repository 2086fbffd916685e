using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Heimdex.Shared.Data.Migrations
{
    /// <inheritdoc />
    public partial class SceneFrames : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "SceneFrames",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    VideoId = table.Column<Guid>(type: "uuid", nullable: false),
                    SceneId = table.Column<Guid>(type: "uuid", nullable: false),
                    Seconds = table.Column<double>(type: "double precision", nullable: false),
                    Descriptor = table.Column<float[]>(type: "real[]", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SceneFrames", x => x.Id);
                    table.ForeignKey(
                        name: "FK_SceneFrames_Scenes_SceneId",
                        column: x => x.SceneId,
                        principalTable: "Scenes",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_SceneFrames_SceneId",
                table: "SceneFrames",
                column: "SceneId");

            migrationBuilder.CreateIndex(
                name: "IX_SceneFrames_VideoId",
                table: "SceneFrames",
                column: "VideoId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "SceneFrames");
        }
    }
}
