using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Heimdex.Search.Indexes;

/// <summary>
/// The videos whose vectors an API process must reload, reloaded one at a time: a burst of announcements (a library
/// being indexed) must not open a database connection per video. A video announced again while queued is reloaded
/// once; a reload that fails (Postgres busy or restarting) is tried again later rather than leaving the video out of
/// search.
/// </summary>
public sealed class SceneReloadQueue(Func<Guid, CancellationToken, Task> reload, ILogger logger, TimeSpan firstRetryDelay, TimeSpan maxRetryDelay)
{
    private readonly Channel<Guid> _videos = Channel.CreateUnbounded<Guid>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<Guid, byte> _queued = new();
    private readonly ConcurrentDictionary<Guid, int> _failures = new();
    private int _pending;

    /// <summary>Videos queued, being reloaded or waiting to be tried again.</summary>
    public int Pending => Volatile.Read(ref _pending);

    public void Enqueue(Guid videoId)
    {
        if (_queued.TryAdd(videoId, 0))
        {
            Interlocked.Increment(ref _pending);
            _videos.Writer.TryWrite(videoId);
        }
    }

    public TimeSpan RetryDelay(int failures) =>
        TimeSpan.FromTicks((long)Math.Min(maxRetryDelay.Ticks, firstRetryDelay.Ticks * Math.Pow(2, Math.Min(failures - 1, 30))));

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await foreach (var videoId in _videos.Reader.ReadAllAsync(cancellationToken))
        {
            // Dequeued before the reload: an announcement arriving during it queues the video again, so it is not lost.
            _queued.TryRemove(videoId, out _);
            try
            {
                await reload(videoId, cancellationToken);
                _failures.TryRemove(videoId, out _);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                RetryLater(videoId, error, cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _pending);
            }
        }
    }

    private void RetryLater(Guid videoId, Exception error, CancellationToken cancellationToken)
    {
        var failures = _failures.AddOrUpdate(videoId, 1, (_, count) => count + 1);
        var delay = RetryDelay(failures);
        logger.LogWarning(error, "Reloading the vectors of video {VideoId} failed ({Failures} times); trying again in {Delay}", videoId, failures, delay);
        Interlocked.Increment(ref _pending);
        _ = Task.Delay(delay, cancellationToken).ContinueWith(_ =>
        {
            Interlocked.Decrement(ref _pending);
            Enqueue(videoId);
        }, CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
    }
}
