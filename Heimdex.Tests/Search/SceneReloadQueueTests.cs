using Heimdex.Search.Indexes;
using Microsoft.Extensions.Logging.Abstractions;

namespace Heimdex.Tests.Search;

public sealed class SceneReloadQueueTests
{
    [Fact]
    public async Task A_burst_of_announcements_reloads_one_video_at_a_time_and_each_once_more_at_most()
    {
        var videos = Enumerable.Range(0, 10).Select(_ => Guid.NewGuid()).ToArray();
        var firstStarted = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var reloads = new List<Guid>();
        int running = 0, mostRunning = 0;
        var queue = new SceneReloadQueue(async (videoId, cancellationToken) =>
        {
            var now = Interlocked.Increment(ref running);
            lock (reloads)
            {
                reloads.Add(videoId);
                mostRunning = Math.Max(mostRunning, now);
            }

            firstStarted.TrySetResult();
            await release.Task.WaitAsync(cancellationToken);
            await Task.Yield();
            Interlocked.Decrement(ref running);
        }, NullLogger.Instance, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(100));
        using var stop = new CancellationTokenSource();
        var run = queue.RunAsync(stop.Token);

        queue.Enqueue(videos[0]);
        await firstStarted.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        // While the first reload runs, every video is announced twenty times over, as a library being indexed would.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var round = 0; round < 5; round++)
            {
                foreach (var videoId in videos)
                {
                    queue.Enqueue(videoId);
                }
            }
        }, TestContext.Current.CancellationToken)));
        Assert.Equal(11, queue.Pending);
        release.SetResult();

        await WaitUntilAsync(() => queue.Pending == 0);
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(1, mostRunning);
        // The first video again (it was announced while being reloaded), then every other video once.
        Assert.Equal(11, reloads.Count);
        Assert.Equal(videos.ToHashSet(), reloads.ToHashSet());
        Assert.Equal(2, reloads.Count(id => id == videos[0]));
    }

    [Fact]
    public async Task A_failed_reload_is_tried_again_without_holding_up_the_others()
    {
        var failing = Guid.NewGuid();
        var other = Guid.NewGuid();
        var attempts = new Dictionary<Guid, int>();
        var reloaded = new List<Guid>();
        var queue = new SceneReloadQueue((videoId, _) =>
        {
            lock (attempts)
            {
                attempts[videoId] = attempts.GetValueOrDefault(videoId) + 1;
                if (videoId == failing && attempts[videoId] <= 2)
                {
                    throw new InvalidOperationException("sorry, too many clients already");
                }

                reloaded.Add(videoId);
            }

            return Task.CompletedTask;
        }, NullLogger.Instance, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(1));
        using var stop = new CancellationTokenSource();
        var run = queue.RunAsync(stop.Token);

        queue.Enqueue(failing);
        queue.Enqueue(other);
        await WaitUntilAsync(() => { lock (attempts) { return reloaded.Contains(other); } });
        lock (attempts)
        {
            Assert.Equal(1, attempts[failing]);
        }

        Assert.True(queue.Pending > 0, "the failed video is still owed a reload");

        await WaitUntilAsync(() => queue.Pending == 0);
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(3, attempts[failing]);
        Assert.Equal([other, failing], reloaded);
    }

    [Fact]
    public void Retry_delays_double_up_to_their_ceiling()
    {
        var queue = new SceneReloadQueue((_, _) => Task.CompletedTask, NullLogger.Instance, TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(1));

        Assert.Equal([2, 4, 8, 16, 32, 60, 60], new[] { 1, 2, 3, 4, 5, 6, 100 }.Select(failures => queue.RetryDelay(failures).TotalSeconds));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the queue did not settle");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }
}
