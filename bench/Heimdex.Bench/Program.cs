using System.Globalization;
using Heimdex.Bench;

const string Usage = """
    Heimdex benchmarks. Start the graph first (dotnet run --project Heimdex.AppHost), then:
      dotnet run -c Release --project bench/Heimdex.Bench -- uploads [--data-dir DIR] [--size-mib N]
    uploads   throughput of one upload through POST /api/videos, tus, and AWSSDK.S3 direct; API peak memory
    """;

var dataDirectory = Path.Combine(Directory.GetCurrentDirectory(), ".heimdex");
var sizeMiB = 2048L;
for (var i = 1; i < args.Length - 1; i++)
{
    switch (args[i])
    {
        case "--data-dir": dataDirectory = args[++i]; break;
        case "--size-mib": sizeMiB = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
    }
}

switch (args.FirstOrDefault())
{
    case "uploads":
        await new UploadBenchmark(dataDirectory, sizeMiB * 1024 * 1024).RunAsync();
        return 0;
    default:
        Console.Error.WriteLine(Usage);
        return 2;
}
