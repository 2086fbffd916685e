using Heimdex.Shared.People;
using Heimdex.Shared.Search;
using Heimdex.Shared.Pipeline;
using Heimdex.Shared.Uploads;
using Heimdex.Shared.Users;
using Heimdex.Shared.Videos;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Heimdex.Shared.Data;

/// <summary>The one model of Heimdex, used by the API and the worker alike.</summary>
public sealed class HeimdexDbContext(DbContextOptions<HeimdexDbContext> options) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<Video> Videos => Set<Video>();
    public DbSet<Upload> Uploads => Set<Upload>();
    public DbSet<StageRun> StageRuns => Set<StageRun>();
    public DbSet<Scene> Scenes => Set<Scene>();
    public DbSet<TranscriptSegment> TranscriptSegments => Set<TranscriptSegment>();
    public DbSet<OnScreenText> OnScreenTexts => Set<OnScreenText>();
    public DbSet<Face> Faces => Set<Face>();

    public DbSet<SearchWord> SearchWords => Set<SearchWord>();
    public DbSet<SceneEmbedding> SceneEmbeddings => Set<SceneEmbedding>();
    public DbSet<SceneFrame> SceneFrames => Set<SceneFrame>();
    public DbSet<Person> People => Set<Person>();
    public DbSet<PersonPhoto> PersonPhotos => Set<PersonPhoto>();

    protected override void ConfigureConventions(ModelConfigurationBuilder conventions)
    {
        // Readable in SQL and stable when enum members are reordered.
        conventions.Properties<Enum>().HaveConversion<string>().HaveMaxLength(32);
    }

    protected override void OnModelCreating(ModelBuilder model)
    {

        model.Entity<User>(user =>
        {
            user.Property(u => u.Name).HasMaxLength(200);
            user.HasMany(u => u.ApiKeys).WithOne(k => k.User).HasForeignKey(k => k.UserId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<ApiKey>(key =>
        {
            key.HasIndex(k => k.Prefix).IsUnique();
            key.Property(k => k.Prefix).HasMaxLength(32);
            key.Property(k => k.Name).HasMaxLength(200);
        });

        model.Entity<Video>(video =>
        {
            video.HasIndex(v => new { v.OwnerId, v.CreatedAt });
            video.HasOne<User>().WithMany().HasForeignKey(v => v.OwnerId).OnDelete(DeleteBehavior.Cascade);
            video.Property(v => v.Title).HasMaxLength(Video.MaxTitleLength);
            video.Property(v => v.OriginalFileName).HasMaxLength(255);
            video.Property(v => v.ContentType).HasMaxLength(100);
            video.Property(v => v.TraceParent).HasMaxLength(128);
            video.HasMany(v => v.Stages).WithOne().HasForeignKey(s => s.VideoId).OnDelete(DeleteBehavior.Cascade);
            video.HasMany(v => v.Scenes).WithOne().HasForeignKey(s => s.VideoId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<StageRun>(stage =>
        {
            stage.HasIndex(s => new { s.VideoId, s.Stage }).IsUnique();
            stage.Property(s => s.Stage).HasMaxLength(64);
        });
        model.HasPostgresExtension("pg_trgm");
        // A GIN index may start with the owner's uuid: one index lookup finds an owner's scenes with all of the query's words.
        model.HasPostgresExtension("btree_gin");
        // Scenes also hold their words prefixed with their owner, in a RUM index (migration SceneWordsByOwner):
        // unlike GIN it keeps each word's positions, so an owner's scenes with some of the words come out of it
        // best-ranked first. That column ("OwnerWords", generated from the document) is left out of the model so that
        // loading a scene does not read it; only search's own statements do.
        model.HasPostgresExtension("rum");
        model.Entity<Scene>(scene =>
        {
            scene.HasIndex(s => new { s.VideoId, s.Index }).IsUnique();
            // GIN's pending list holds the scenes written since it was last merged, and every lookup reads all of it,
            // whichever owner asks: at the default 4 MB, up to 500 pages. Merged at 256 kB instead, scenes cost a little
            // more to write and a lookup reads at most 32 pending pages.
            scene.HasIndex(s => new { s.OwnerId, s.Document }).HasMethod("gin")
                .HasStorageParameter("gin_pending_list_limit", 256);
            // A deleted user's scenes are found by it.
            scene.HasIndex(s => s.OwnerId);
            scene.HasOne<User>().WithMany().HasForeignKey(s => s.OwnerId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<SearchWord>(word =>
        {
            // The key answers "does the owner have this word", and starts with the word so that it cannot list an
            // owner's words: a key that did was the planner's choice for a typo whenever its statistics thought the
            // owner had few words (an owner new since the last ANALYZE, or any owner in a generic plan over many
            // small ones), and then every word of the owner was compared with the typo, one similarity each.
            word.HasKey(w => new { w.Word, w.OwnerId });
            word.Property(w => w.Word).HasMaxLength(SceneDocuments.MaxWordLength);
            // Typos are corrected against the caller's words only: an index that starts with the owner finds the
            // caller's words with trigrams in common instead of comparing every word of theirs or of every owner.
            // Without GIN's pending list: every lookup would also read each word added since the list was last
            // merged (up to 4 MB of them; 7,000 words made a lookup 3–4 ms instead of 1), while a library adds few
            // new words once its vocabulary is made.
            word.HasIndex(w => new { w.OwnerId, w.Word }).HasMethod("gin").HasOperators("uuid_ops", "gin_trgm_ops")
                .HasStorageParameter("fastupdate", false);
            word.HasOne<User>().WithMany().HasForeignKey(w => w.OwnerId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<TranscriptSegment>(segment =>
        {
            segment.HasIndex(s => new { s.VideoId, s.Index }).IsUnique();
            segment.HasOne<Video>().WithMany().HasForeignKey(s => s.VideoId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<OnScreenText>(text =>
        {
            text.HasOne<Video>().WithMany().HasForeignKey(t => t.VideoId).OnDelete(DeleteBehavior.Cascade);
            text.HasOne<Scene>().WithMany().HasForeignKey(t => t.SceneId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<Face>(face =>
        {
            face.HasOne<Video>().WithMany().HasForeignKey(f => f.VideoId).OnDelete(DeleteBehavior.Cascade);
            face.HasOne<Scene>().WithMany().HasForeignKey(f => f.SceneId).OnDelete(DeleteBehavior.Cascade);
            face.HasOne<Person>().WithMany().HasForeignKey(f => f.PersonId).OnDelete(DeleteBehavior.SetNull);
        });
        model.Entity<SceneFrame>(frame =>
        {
            frame.HasIndex(f => f.VideoId);
            frame.HasOne<Scene>().WithMany().HasForeignKey(f => f.SceneId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<SceneEmbedding>(embedding =>
        {
            embedding.HasKey(e => new { e.SceneId, e.Space });
            embedding.Property(e => e.Space).HasMaxLength(64);
            embedding.HasIndex(e => new { e.Space, e.VideoId });
            embedding.HasOne<Scene>().WithMany().HasForeignKey(e => e.SceneId).OnDelete(DeleteBehavior.Cascade);
        });

        model.Entity<Upload>(upload =>
        {
            upload.HasOne<User>().WithMany().HasForeignKey(u => u.OwnerId).OnDelete(DeleteBehavior.Cascade);
            upload.HasIndex(u => new { u.State, u.ExpiresAt });
            upload.Property(u => u.FileName).HasMaxLength(255);
            upload.OwnsMany(u => u.Parts, parts => parts.ToJson());
        });

        model.Entity<Person>(person =>
        {
            person.HasOne<User>().WithMany().HasForeignKey(p => p.OwnerId).OnDelete(DeleteBehavior.Cascade);
            person.Property(p => p.Name).HasMaxLength(200);
            person.HasMany(p => p.Photos).WithOne().HasForeignKey(p => p.PersonId).OnDelete(DeleteBehavior.Cascade);
        });

        // Entities make their own ids (version 7 GUIDs) when constructed; a new child reached through a navigation is
        // then still recognised as new, not mistaken for an existing row.
        model.Model.GetEntityTypes().SelectMany(e => e.GetKeys()).SelectMany(k => k.Properties)
            .Where(p => p.ClrType == typeof(Guid)).ToList()
            .ForEach(p => p.ValueGenerated = Microsoft.EntityFrameworkCore.Metadata.ValueGenerated.Never);
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running database.</summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<HeimdexDbContext>
{
    public HeimdexDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<HeimdexDbContext>().UseNpgsql("Host=localhost;Database=heimdex").Options);
}
