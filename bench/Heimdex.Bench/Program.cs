using System.Globalization;
using Heimdex.Bench;

const string Usage = """
    Heimdex benchmarks. Start the graph first (dotnet run --project Heimdex.AppHost), then:
      dotnet run -c Release --project bench/Heimdex.Bench -- uploads [--data-dir DIR] [--size-mib N]
      dotnet run -c Release --project bench/Heimdex.Bench -- shots [--media DIR]
    uploads   throughput of one upload through POST /api/videos, tus, and AWSSDK.S3 direct; API peak memory
    shots     shot detection F1 and frames/s against the goldens, Heimdex vs ffmpeg scdet (needs no running graph;
              default media: ../shared/media/video)
    """;

var dataDirectory = Path.Combine(Directory.GetCurrentDirectory(), ".heimdex");
var sizeMiB = 2048L;
var media = Path.Combine(Directory.GetCurrentDirectory(), "..", "shared", "media", "video");
for (var i = 1; i < args.Length - 1; i++)
{
    switch (args[i])
    {
        case "--data-dir": dataDirectory = args[++i]; break;
        case "--size-mib": sizeMiB = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--media": media = args[++i]; break;
    }
}

switch (args.FirstOrDefault())
{
    case "uploads":
        await new UploadBenchmark(dataDirectory, sizeMiB * 1024 * 1024).RunAsync();
        return 0;
    case "shots":
        await new ShotBenchmark(media).RunAsync();
        return 0;
    default:
        Console.Error.WriteLine(Usage);
        return 2;
}
