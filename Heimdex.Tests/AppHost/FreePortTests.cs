using Heimdex.AppHost;

namespace Heimdex.Tests.AppHost;

public sealed class FreePortTests
{
    [Fact]
    public void A_port_is_never_handed_out_twice_in_one_run_though_none_is_bound_yet()
    {
        // The worker's port is chosen when the graph is built and bound only after Redis drew its own: two thousand
        // draws from the 22,000 ports below the ephemeral range would repeat one almost surely if they were independent.
        var ports = Enumerable.Range(0, 2000).Select(_ => DataDirectory.FreePort()).ToList();

        Assert.Equal(ports.Count, ports.Distinct().Count());
        Assert.All(ports, port => Assert.InRange(port, 10000, 65535));
    }
}
