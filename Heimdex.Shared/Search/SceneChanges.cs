using StackExchange.Redis;

namespace Heimdex.Shared.Search;

/// <summary>
/// Tells every API process that a video's searchable scenes changed (indexed, re-indexed or deleted), so their
/// in-memory vector indexes reload that video from Postgres, the source of truth.
/// </summary>
public static class SceneChanges
{
    public static readonly RedisChannel Channel = RedisChannel.Literal("heimdex:scenes-changed");

    public static Task PublishAsync(IConnectionMultiplexer redis, Guid videoId) =>
        redis.GetSubscriber().PublishAsync(Channel, videoId.ToString("N"));
}
