using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Heimdex.Shared.Data.Migrations
{
    /// <inheritdoc />
    public partial class PersonPhotoAttempts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "Attempts",
                table: "PersonPhotos",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "UpdatedAt",
                table: "PersonPhotos",
                type: "timestamp with time zone",
                nullable: false,
                defaultValue: new DateTimeOffset(new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Attempts",
                table: "PersonPhotos");

            migrationBuilder.DropColumn(
                name: "UpdatedAt",
                table: "PersonPhotos");
        }
    }
}
