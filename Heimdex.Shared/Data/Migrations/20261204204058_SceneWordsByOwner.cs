using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Heimdex.Shared.Data.Migrations
{
    /// <inheritdoc />
    public partial class SceneWordsByOwner : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""DROP INDEX "IX_Scenes_Document_OwnerText";""");

            // No RUM operator class starts with a uuid, and a RUM index's entries are its lexemes: so each scene also
            // holds its words prefixed with its owner ('<owner>/word', the owner's 16 bytes in base64), and ranking an
            // owner's scenes reads that owner's entries only. A stored column, not an index expression: ranking
            // scenes outside the index (a sort) reads it instead of rewriting each scene's words again. The text forms
            // are rewritten, not the words parsed again, which keeps each word's positions and weights for ranking (a
            // lexeme starts each quoted token there); the longest words are dropped so that a prefixed one stays
            // within the 2,047 bytes a lexeme may have. Each function names only PostgreSQL's own functions, so a
            // restore (which empties the search path) can compute the column.
            migrationBuilder.Sql("""
                CREATE FUNCTION scene_owner_words(document tsvector, owner uuid) RETURNS tsvector
                LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
                    SELECT regexp_replace(
                        ts_delete(document, ARRAY(SELECT lexeme FROM unnest(document) WHERE octet_length(lexeme) > 1024))::text,
                        '(^| )''', '\1''' || rtrim(encode(uuid_send(owner), 'base64'), '=') || '/', 'g')::tsvector
                $$;

                CREATE FUNCTION scene_owner_query(query tsquery, owner uuid) RETURNS tsquery
                LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
                    SELECT regexp_replace(query::text, '(^|[ (!])''', '\1''' || rtrim(encode(uuid_send(owner), 'base64'), '=') || '/', 'g')::tsquery
                $$;

                ALTER TABLE "Scenes" ADD COLUMN "OwnerWords" tsvector
                GENERATED ALWAYS AS (scene_owner_words("Document", "OwnerId")) STORED;

                CREATE INDEX "IX_Scenes_OwnerWords" ON "Scenes" USING rum ("OwnerWords" rum_tsvector_ops);
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP INDEX "IX_Scenes_OwnerWords";
                ALTER TABLE "Scenes" DROP COLUMN "OwnerWords";
                DROP FUNCTION scene_owner_query(tsquery, uuid);
                DROP FUNCTION scene_owner_words(tsvector, uuid);
                CREATE INDEX "IX_Scenes_Document_OwnerText" ON "Scenes"
                USING rum ("Document" rum_tsvector_ops, ("OwnerId"::text) rum_text_ops);
                """);
        }
    }
}
