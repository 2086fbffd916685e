using Heimdex.Shared.Data;
using Microsoft.EntityFrameworkCore;

namespace Heimdex.Shared.Search;

/// <summary>
/// What scenes are searched by: a full-text document of the video's title (weight A), the scene's text (B) and the
/// description (C), and the owner's vocabulary (<see cref="SearchWord"/>) that typos are corrected against.
/// </summary>
public static class SceneDocuments
{
    public const int MinWordLength = 3;
    public const int MaxWordLength = 64;

    /// <summary>How text splits into the words of the vocabulary, in SQL: lower case, runs of letters and digits.</summary>
    public const string WordPattern = "[^[:alnum:]]+";

    /// <summary>Rewrites the documents of every scene of these videos from what is stored now, and adds their words to their owners' vocabularies.</summary>
    public static async Task UpdateAsync(HeimdexDbContext db, Guid[] videoIds, CancellationToken cancellationToken)
    {
        await db.Database.ExecuteSqlAsync($"""
            UPDATE "Scenes" s SET "Document" =
                setweight(to_tsvector('english', v."Title"), 'A') ||
                setweight(to_tsvector('english', coalesce(s."SearchText", '')), 'B') ||
                setweight(to_tsvector('english', coalesce(v."Description", '')), 'C')
            FROM "Videos" v WHERE v."Id" = s."VideoId" AND s."VideoId" = ANY({videoIds})
            """, cancellationToken);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO "SearchWords" ("OwnerId", "Word")
            SELECT DISTINCT v."OwnerId", word
            FROM "Scenes" s JOIN "Videos" v ON v."Id" = s."VideoId",
                 regexp_split_to_table(lower(concat_ws(' ', v."Title", s."SearchText", v."Description")), {WordPattern}) AS word
            WHERE s."VideoId" = ANY({videoIds}) AND length(word) BETWEEN {MinWordLength} AND {MaxWordLength}
            ON CONFLICT DO NOTHING
            """, cancellationToken);
    }
}
