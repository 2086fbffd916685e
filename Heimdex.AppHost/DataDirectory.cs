using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Heimdex.Conventions;

namespace Heimdex.AppHost;

/// <summary>
/// Where one Heimdex keeps its data across runs: each server's files, the secrets they were created with
/// (<c>secrets.json</c>), the administrator's key (<c>admin.key</c>) and what is running (<c>endpoints.json</c>).
/// </summary>
public sealed class DataDirectory(string path)
{
    public const string AdminKeyFileName = "admin.key";
    public const string EndpointsFileName = "endpoints.json";
    private readonly Lock _gate = new();

    public string Path { get; } = path;

    public string EndpointsFile => System.IO.Path.Combine(Path, EndpointsFileName);

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates (or makes private again) a folder only this user can read: a server's data, which holds everyone's videos and rows.</summary>
    public static void CreatePrivateFolder(string path)
    {
        Directory.CreateDirectory(path, OwnerOnly);
        File.SetUnixFileMode(path, OwnerOnly);
    }

    /// <summary>
    /// Takes the folder for this run: an exclusive lock for as long as the AppHost runs (a second AppHost on the same
    /// data would start a second PostgreSQL on the same files), then, with <paramref name="fresh"/>, everything in it
    /// removed, and in any case the previous run's <c>endpoints.json</c>, which no longer holds.
    /// </summary>
    public FileStream Open(bool fresh)
    {
        // Nobody else may list or read it; when root, PostgreSQL's own user must still pass through to its folder.
        Directory.CreateDirectory(Path, OwnerOnly);
        File.SetUnixFileMode(Path, OwnerOnly | (Environment.IsPrivilegedProcess ? UnixFileMode.OtherExecute : UnixFileMode.None));
        var lockFile = System.IO.Path.Combine(Path, ".lock");
        FileStream held;
        try
        {
            // FileShare.None is an exclusive advisory lock on Unix.
            held = new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new AppHostException($"Another AppHost is already running on {Path}.");
        }

        foreach (var entry in new DirectoryInfo(Path).EnumerateFileSystemInfos().Where(e => fresh ? e.Name != ".lock" : e.Name == EndpointsFileName))
        {
            if (entry is DirectoryInfo directory)
            {
                directory.Delete(recursive: true);
            }
            else
            {
                entry.Delete();
            }
        }

        return held;
    }

    /// <summary>A random secret created on first use and kept in <c>secrets.json</c> (mode 600), so data stays usable across runs.</summary>
    public string Secret(string name)
    {
        var file = System.IO.Path.Combine(Path, "secrets.json");
        lock (_gate)
        {
            var secrets = File.Exists(file)
                ? JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(file)) ?? []
                : [];
            if (!secrets.TryGetValue(name, out var secret))
            {
                secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
                secrets[name] = secret;
                Directory.CreateDirectory(Path);
                WritePrivateFile(file, JsonSerializer.Serialize(secrets));
            }

            return secret;
        }
    }

    /// <summary>
    /// The administrator's API key: created on the first run, announced that once, and kept in <c>admin.key</c> (mode 600).
    /// </summary>
    public string AdminApiKey(Action<string> announce)
    {
        var file = System.IO.Path.Combine(Path, AdminKeyFileName);
        lock (_gate)
        {
            if (File.Exists(file))
            {
                return File.ReadAllText(file).Trim();
            }

            var key = ApiKeyCredential.Generate().ToString();
            Directory.CreateDirectory(Path);
            WritePrivateFile(file, key + "\n");
            announce($"First run: created the administrator API key. It is shown this once and kept in {file}:\n\n    {key}\n");
            return key;
        }
    }

    /// <summary>Writes a file only the current user can read, atomically.</summary>
    public static void WritePrivateFile(string path, string contents)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, "");
        File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(temp, contents);
        File.Move(temp, path, overwrite: true);
    }

    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A port nothing listens on now, for a server of this run (only the API's and the dashboard's are fixed). Chosen
    /// below the kernel's ephemeral range: the port is only taken when the server starts, and meanwhile every outgoing
    /// connection on the machine draws a local port from that range. A port is never handed out twice in one run: the
    /// worker's is chosen when the graph is built but bound only after Redis started, which must not draw it meanwhile.
    /// </summary>
    public static int FreePort()
    {
        var ephemeralStart = int.TryParse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split('\t', ' ')[0], out var start) ? start : 32768;
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var port = Random.Shared.Next(10000, ephemeralStart);
            lock (HandedOut)
            {
                if (!HandedOut.Add(port))
                {
                    continue;
                }
            }

            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // taken; try another
            }
        }

        throw new AppHostException($"No free port between 10000 and {ephemeralStart} on 127.0.0.1.");
    }
}
