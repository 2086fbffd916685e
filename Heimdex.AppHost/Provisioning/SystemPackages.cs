namespace Heimdex.AppHost.Provisioning;

/// <summary>A program the graph needs and the Debian package that provides it.</summary>
public sealed record SystemRequirement(string Program, string DebianPackage)
{
    public static readonly SystemRequirement Postgres = new("postgres", "postgresql");
    public static readonly SystemRequirement InitDb = new("initdb", "postgresql");

    /// <summary>The RUM index method, for Debian 12's PostgreSQL (15), which the package <c>postgresql</c> installs.</summary>
    public static readonly SystemRequirement PostgresRum = File("/usr/share/postgresql/15/extension/rum.control", "postgresql-15-rum");
    public static readonly SystemRequirement RedisServer = new("redis-server", "redis-server");
    public static readonly SystemRequirement FFmpeg = new("ffmpeg", "ffmpeg");
    public static readonly SystemRequirement FFprobe = new("ffprobe", "ffmpeg");
    public static readonly SystemRequirement Npm = new("npm", "npm");
    public static readonly SystemRequirement Pocketsphinx = Library("libpocketsphinx.so.3", "libpocketsphinx3");
    public static readonly SystemRequirement PocketsphinxEnglish = File("/usr/share/pocketsphinx/model/en-us/en-us/mdef", "pocketsphinx-en-us");
    public static readonly SystemRequirement Tesseract = Library("libtesseract.so.5", "libtesseract5");
    public static readonly SystemRequirement TesseractEnglish = File("/usr/share/tesseract-ocr/5/tessdata/eng.traineddata", "tesseract-ocr-eng");
    public static readonly SystemRequirement DejaVuFonts = File("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "fonts-dejavu-core");

    /// <summary>A shared library or data file rather than a program: found by its absolute path.</summary>
    public static SystemRequirement File(string path, string debianPackage) => new(path, debianPackage);

    private static SystemRequirement Library(string fileName, string debianPackage) => File(
        Path.Combine("/usr/lib", System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.Arm64 => "aarch64-linux-gnu",
            _ => "x86_64-linux-gnu",
        }, fileName),
        debianPackage);
}

/// <summary>
/// Finds the programs the graph needs and, on a machine that lacks some, installs their packages with apt-get
/// (as root or with passwordless sudo) — or stops with the exact command to run.
/// </summary>
public sealed class SystemPackages(Action<string> log)
{
    /// <summary>Debian keeps PostgreSQL's server programs off PATH, in a folder per major version.</summary>
    private static IEnumerable<string> ExtraDirectories(string program) =>
        program is "postgres" or "initdb" && Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(dir => int.TryParse(Path.GetFileName(dir), out var major) ? major : 0)
                .Select(dir => Path.Combine(dir, "bin"))
            : [];

    public static string? Find(string program) => Path.IsPathRooted(program)
        ? (System.IO.File.Exists(program) ? program : null)
        : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Concat(ExtraDirectories(program))
        .Select(dir => Path.Combine(dir, program))
        .FirstOrDefault(File.Exists);

    public static string Resolve(SystemRequirement requirement) =>
        Find(requirement.Program) ?? throw new AppHostException(
            $"'{requirement.Program}' is not installed (Debian package {requirement.DebianPackage}).");

    public async Task EnsureAsync(IEnumerable<SystemRequirement> requirements, CancellationToken cancellationToken)
    {
        var missing = requirements.Where(r => Find(r.Program) is null).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        var programs = string.Join(", ", missing.Select(r => r.Program).Distinct());
        var packages = missing.Select(r => r.DebianPackage).Distinct().ToList();
        var installCommand = $"apt-get update && apt-get install -y --no-install-recommends {string.Join(' ', packages)}";
        if (Find("apt-get") is null)
        {
            throw new AppHostException($"Heimdex needs {programs}, which are not installed, and this machine has no apt-get. " +
                                       $"Install the equivalents of the Debian packages {string.Join(", ", packages)}, then start again.");
        }

        string[] elevate;
        if (Environment.IsPrivilegedProcess)
        {
            elevate = [];
        }
        else if (Find("sudo") is not null && (await RunAsync(["sudo", "-n", "true"], quiet: true, cancellationToken)) == 0)
        {
            elevate = ["sudo", "-n"];
        }
        else
        {
            throw new AppHostException($"Heimdex needs {programs}, which are not installed. Install them with:\n" +
                                       $"  sudo sh -c '{installCommand}'\nthen start the AppHost again.");
        }

        log($"first run: installing {string.Join(' ', packages)} with apt-get (this takes a minute)");
        if (await RunAsync([.. elevate, "apt-get", "update"], quiet: false, cancellationToken) != 0
            || await RunAsync([.. elevate, "apt-get", "install", "-y", "--no-install-recommends", .. packages], quiet: false, cancellationToken) != 0)
        {
            throw new AppHostException($"Installing {string.Join(' ', packages)} failed (output above). Run it yourself:\n  sudo sh -c '{installCommand}'");
        }

        if (missing.FirstOrDefault(r => Find(r.Program) is null) is { } stillMissing)
        {
            throw new AppHostException($"'{stillMissing.Program}' is still missing after installing {stillMissing.DebianPackage}.");
        }

        log($"installed {string.Join(' ', packages)}");
    }

    private async Task<int> RunAsync(string[] command, bool quiet, CancellationToken cancellationToken)
    {
        var (exitCode, _) = await CommandLine.RunAsync(command[0], command[1..], line => { if (!quiet) { log("  " + line); } },
            cancellationToken, new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" });
        return exitCode;
    }
}
