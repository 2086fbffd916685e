using System.Runtime.InteropServices;

namespace Heimdex.AppHost.Hosting;

/// <summary>The <c>dotnet</c> muxer that runs this AppHost, used to run the services' and dev storage's assemblies.</summary>
public static class DotnetHost
{
    // The runtime lives in <root>/shared/Microsoft.NETCore.App/<version>/; the muxer is <root>/dotnet.
    public static string Path { get; } =
        System.IO.Path.GetFullPath(System.IO.Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet")) is var muxer
        && File.Exists(muxer)
            ? muxer
            : SystemPackages.Find("dotnet") ?? "dotnet";
}
