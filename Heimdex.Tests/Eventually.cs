namespace Heimdex.Tests;

/// <summary>Waiting on background work: read until the condition holds, or fail the test with the last thing read.</summary>
public static class Eventually
{
    public static async Task<T> PollAsync<T>(Func<Task<T>> read, Func<T, bool> condition, string what, int seconds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        T current;
        do
        {
            current = await read();
            if (condition(current))
            {
                return current;
            }

            await Task.Delay(300, TestContext.Current.CancellationToken);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"No {what} within {seconds} s; last seen: {current}");
        return current;
    }
}
