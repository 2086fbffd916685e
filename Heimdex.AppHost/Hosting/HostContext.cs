using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;

namespace Heimdex.AppHost.Hosting;

/// <summary>What every resource may use while it prepares: the data directory, persisted secrets, ports, tools.</summary>
public sealed partial class HostContext(AppHostOptions options, SystemPackages packages, Action<string> announce)
{
    public const string AdminKeyFileName = "admin.key";

    public AppHostOptions Options { get; } = options;

    public SystemPackages Packages { get; } = packages;

    public string DataDirectory => Options.DataDirectory;

    public static bool IsRoot => Environment.UserName == "root" || geteuid() == 0;

    /// <summary>A random secret created on first use and kept in <c>secrets.json</c> (mode 600) so data stays usable across runs.</summary>
    public string Secret(string name)
    {
        var file = Path.Combine(DataDirectory, "secrets.json");
        lock (this)
        {
            var secrets = File.Exists(file)
                ? JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(file)) ?? []
                : [];
            if (!secrets.TryGetValue(name, out var secret))
            {
                secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
                secrets[name] = secret;
                WritePrivateFile(file, JsonSerializer.Serialize(secrets));
            }

            return secret;
        }
    }

    /// <summary>
    /// The administrator's API key: created on the first run, printed that once, and kept in <c>admin.key</c> (mode 600).
    /// </summary>
    public string AdminApiKey()
    {
        var file = Path.Combine(DataDirectory, AdminKeyFileName);
        lock (this)
        {
            if (File.Exists(file))
            {
                return File.ReadAllText(file).Trim();
            }

            var key = Heimdex.Shared.Users.ApiKeyCredential.Generate().ToString();
            WritePrivateFile(file, key + "\n");
            announce($"first run: created the administrator API key. It is shown this once and kept in {file}:\n\n    {key}\n");
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

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static bool IsPortFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [LibraryImport("libc")]
    private static partial uint geteuid();
}
