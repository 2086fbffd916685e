using Heimdex.Shared.Data;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Search;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;

namespace Heimdex.Api.Search;

/// <summary>Fills the vector index from Postgres at start, then reloads each video the worker (or a delete) announces.</summary>
public sealed class SceneIndexLoader(IServiceScopeFactory scopes, SceneIndexes indexes, IConnectionMultiplexer redis, ILogger<SceneIndexLoader> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Subscribe first: a video indexed while the rest loads is reloaded after, not missed.
        await redis.GetSubscriber().SubscribeAsync(SceneChanges.Channel, (channel, message) =>
        {
            if (Guid.TryParse(message.ToString(), out var videoId))
            {
                _ = ReloadSafelyAsync(videoId, stoppingToken);
            }
        });

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HeimdexDbContext>();
        var videos = await db.Videos.AsNoTracking().Select(v => v.Id).ToListAsync(stoppingToken);
        foreach (var videoId in videos)
        {
            await ReloadAsync(db, videoId, stoppingToken);
        }

        logger.LogInformation("Vector indexes loaded: {Scenes} text, {Pictures} visual and {Faces} face vectors of {Videos} videos",
            indexes.Text.Count, indexes.Visual.Count, indexes.Faces.Count, videos.Count);
    }

    private async Task ReloadSafelyAsync(Guid videoId, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await ReloadAsync(scope.ServiceProvider.GetRequiredService<HeimdexDbContext>(), videoId, cancellationToken);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            logger.LogError(error, "Reloading the vectors of video {VideoId} failed", videoId);
        }
    }

    private async Task ReloadAsync(HeimdexDbContext db, Guid videoId, CancellationToken cancellationToken)
    {
        var owner = await db.Videos.AsNoTracking().Where(v => v.Id == videoId).Select(v => (Guid?)v.OwnerId).FirstOrDefaultAsync(cancellationToken);
        if (owner is null)
        {
            indexes.Text.Remove(videoId);
            indexes.Visual.Remove(videoId);
            indexes.Faces.Remove(videoId);
            return;
        }

        var scenes = await db.SceneEmbeddings.AsNoTracking().Where(e => e.VideoId == videoId && e.Space == SentenceEncoder.Space)
            .Select(e => new { e.SceneId, e.Vector }).ToListAsync(cancellationToken);
        indexes.Text.Replace(owner.Value, videoId, scenes.Select(s => (s.SceneId, s.Vector)));
        var frames = await db.SceneFrames.AsNoTracking().Where(f => f.VideoId == videoId)
            .Select(f => new { f.SceneId, f.Descriptor }).ToListAsync(cancellationToken);
        indexes.Visual.Replace(owner.Value, videoId, frames.Select(f => (f.SceneId, f.Descriptor)));
        var faces = await db.Faces.AsNoTracking().Where(f => f.VideoId == videoId)
            .Select(f => new { f.SceneId, f.Embedding }).ToListAsync(cancellationToken);
        indexes.Faces.Replace(owner.Value, videoId, faces.Select(f => (f.SceneId, f.Embedding)));
    }
}
