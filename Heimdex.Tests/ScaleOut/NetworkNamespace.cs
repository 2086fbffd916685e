using System.Diagnostics;
using System.Net;

namespace Heimdex.Tests.ScaleOut;

/// <summary>
/// A Linux network namespace joined to this one by a veth pair and nothing else: inside, a loopback of its own and
/// <see cref="Address"/>; this side of the link is <see cref="HostAddress"/>. A process started in it reaches this
/// machine only at <see cref="HostAddress"/>, as a worker on another host reaches the servers over the network.
/// </summary>
public sealed class NetworkNamespace : IAsyncDisposable
{
    private NetworkNamespace(string name, IPAddress hostAddress, IPAddress address) => (Name, HostAddress, Address) = (name, hostAddress, address);

    public string Name { get; }

    public IPAddress HostAddress { get; }

    public IPAddress Address { get; }

    /// <summary>Needs root (CAP_NET_ADMIN), as <c>ip netns</c> does.</summary>
    public static async Task<NetworkNamespace> CreateAsync()
    {
        await TestTools.EnsureAsync(TestTools.IpRoute);
        var id = Guid.NewGuid().ToString("N")[..8];
        var subnet = Random.Shared.Next(1, 255);
        var link = new NetworkNamespace($"heimdex-{id}", IPAddress.Parse($"10.213.{subnet}.1"), IPAddress.Parse($"10.213.{subnet}.2"));
        var (outside, inside) = ($"hx{id}o", $"hx{id}i"); // interface names hold at most 15 characters
        await IpAsync("netns", "add", link.Name);
        try
        {
            await IpAsync("link", "add", outside, "type", "veth", "peer", "name", inside);
            await IpAsync("link", "set", inside, "netns", link.Name);
            await IpAsync("addr", "add", $"{link.HostAddress}/30", "dev", outside);
            await IpAsync("link", "set", outside, "up");
            await IpAsync("-n", link.Name, "addr", "add", $"{link.Address}/30", "dev", inside);
            await IpAsync("-n", link.Name, "link", "set", inside, "up");
            await IpAsync("-n", link.Name, "link", "set", "lo", "up");
            return link;
        }
        catch
        {
            await link.DisposeAsync();
            throw;
        }
    }

    /// <summary>The IPv4 addresses a process inside has.</summary>
    public async Task<IReadOnlyList<IPAddress>> AddressesAsync()
    {
        var listed = await IpAsync("-n", Name, "-4", "-o", "addr", "show");
        return [.. listed.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(fields => IPAddress.Parse(fields[Array.IndexOf(fields, "inet") + 1].Split('/')[0]))];
    }

    /// <summary>Whether a TCP connection from inside to <paramref name="endpoint"/> succeeds (bash's /dev/tcp, 3 s at most).</summary>
    public async Task<bool> CanConnectAsync(IPEndPoint endpoint)
    {
        var (exitCode, _) = await TestFiles.RunAsync("ip", "/", "netns", "exec", Name, "timeout", "3", "bash", "-c", $"exec 3<>/dev/tcp/{endpoint.Address}/{endpoint.Port}");
        return exitCode == 0;
    }

    /// <summary>Starts a program inside, with exactly <paramref name="environment"/>; its output is read into <paramref name="output"/>.</summary>
    public Process Start(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, string workingDirectory, Action<string> output) =>
        ChildProcess.Start("ip", ["netns", "exec", Name, program, .. arguments], environment, workingDirectory, output);

    /// <summary>Removing the namespace removes its end of the link, and with it the other end.</summary>
    public async ValueTask DisposeAsync() => await TestFiles.RunAsync("ip", "/", "netns", "delete", Name);

    private static async Task<string> IpAsync(params string[] arguments)
    {
        var (exitCode, output) = await TestFiles.RunAsync("ip", "/", arguments);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} failed ({exitCode}); a network namespace needs root: {output}");
        }

        return output;
    }
}
