using System.Globalization;
using Heimdex.Bench;

const string Usage = """
    Heimdex benchmarks. Start the graph first (dotnet run --project Heimdex.AppHost), then:
      dotnet run -c Release --project bench/Heimdex.Bench -- uploads [--data-dir DIR] [--size-mib N]
      dotnet run -c Release --project bench/Heimdex.Bench -- shots [--media DIR] [--verbose] [--keep-videos DIR]
      dotnet run -c Release --project bench/Heimdex.Bench -- ocr [--media DIR]
      dotnet run -c Release --project bench/Heimdex.Bench -- speech [--audio DIR] [--whisper-model PATH]
      dotnet run -c Release --project bench/Heimdex.Bench -- embed
      dotnet run -c Release --project bench/Heimdex.Bench -- relevance
      dotnet run -c Release --project bench/Heimdex.Bench -- people [--faces DIR]
      dotnet run -c Release --project bench/Heimdex.Bench -- vectors [--sizes 100000,1000000]
      dotnet run -c Release --project bench/Heimdex.Bench -- sentences [--sizes 50000,500000] [--clients 8] [--seconds 30]
      dotnet run -c Release --project bench/Heimdex.Bench -- search [--data-dir DIR] [--sizes 100000,1000000] [--clients 8] [--seconds 60] [--keep]
      dotnet run -c Release --project bench/Heimdex.Bench -- web [--data-dir DIR] [--videos 1000] [--chromium /usr/bin/chromium]
      dotnet run -c Release --project bench/Heimdex.Bench -- queue [--data-dir DIR] [--videos 10]
      dotnet run -c Release --project bench/Heimdex.Bench -- indexing [--data-dir DIR] [--audio DIR] [--faces DIR] [--lengths 120,600]
      dotnet run -c Release --project bench/Heimdex.Bench -- load [--data-dir DIR] [--seconds 120] [--uploaders 20] [--searches-per-second 100]
    uploads   throughput of one upload through POST /api/videos, tus, and AWSSDK.S3 direct; API peak memory
    shots     shot detection F1 and frames/s against the goldens, Heimdex vs ffmpeg scdet, then on generated decks and
              cut videos from the tuning seeds and from held-out seeds (needs no running graph; default media:
              ../shared/media/video; --verbose lists each video's boundaries, --keep-videos reuses generated videos)
    ocr       on-screen text on generated videos whose captions change inside a shot: lines found, start and end within
              1 s, OCR runs per minute, real-time factor, and what one keyframe per scene could have found at best
    speech    word error rate per clip and real-time factor of each speech engine (default audio: ../shared/media/audio)
    embed     p50/p95 latency on search queries and on scene text of the sentence encoder (ONNX Runtime) and of Heimdex's
              own BERT it replaced, the published similarities each reproduces and how alike their vectors are
    relevance the semantic floor: precision/recall of matches by meaning on generated related and unrelated queries,
              the floor chosen on the tuning seeds and both it and the configured one on held-out seeds
    vectors   the vector index at 100k and 1M synthetic scenes: exact vs HNSW latency, recall@10, build time, memory
    sentences the API's sentence index on MiniLM embeddings of 50k and 500k generated sentences (the large user's
              share of bench -- search at 100k and 1M): recall@10 at the candidates search asks for, p50/p95, build,
              memory; then the floor of a search here: 8 callers at once only embedding queries and finding candidates
    search    whole GET /api/search requests at 100k and 1M scenes over 100 users (one with half), generated sentences and
              their MiniLM embeddings; 8 clients for 60 s, words, typos, phrases, one video, a month of uploads: p50/p95/p99
              of the request and of each part per kind and user, recall@10 of the vector part, API memory, restart times
    web       each page of the web app in Chromium on a library of that many videos: p50/p95 until its scripts ran and
              until its content is shown (needs Debian's chromium)
    queue     how long pipeline jobs wait for an idle worker: upload → first stage, stage → next stage (short videos)
    indexing  generated talks of 2 and 10 minutes (720p slides, narration from the shared clips, a face) uploaded to an
              idle worker: upload answered → indexed, each stage and the wait before it, ratio to real time, worker peak RSS
    load      the API under 20 clients uploading 4 MiB files back to back and 100 searches/s sent on a clock for 2 minutes:
              errors, p50/p95/p99 of each, upload MiB/s, the API's memory at the start, a third in, at its peak and at the end
    people    a person's face as the mean of their photos vs the best single photo: separation on the shared faces
    (speech, embed and relevance need the model cache: dotnet run --project Heimdex.AppHost -- --install)
    """;

var dataDirectory = Path.Combine(Directory.GetCurrentDirectory(), ".heimdex");
var sizeMiB = 2048L;
var media = Path.Combine(Directory.GetCurrentDirectory(), "..", "shared", "media", "video");
var audio = Path.Combine(Directory.GetCurrentDirectory(), "..", "shared", "media", "audio");
string? whisperModel = null;
string? keep = null;
var sizes = new[] { 100_000, 1_000_000 };
var videoCount = 1000;
var talkSeconds = new[] { 120.0, 600.0 };
var chromium = "/usr/bin/chromium";
int? seconds = null;
var clients = 8;
var uploaders = 20;
var searchesPerSecond = 100;
var faces = Path.Combine(Directory.GetCurrentDirectory(), "..", "shared", "media", "faces");
for (var i = 1; i < args.Length - 1; i++)
{
    switch (args[i])
    {
        case "--data-dir": dataDirectory = args[++i]; break;
        case "--size-mib": sizeMiB = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--media": media = args[++i]; break;
        case "--keep-videos": keep = args[++i]; break;
        case "--audio": audio = args[++i]; break;
        case "--whisper-model": whisperModel = args[++i]; break;
        case "--faces": faces = args[++i]; break;
        case "--videos": videoCount = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--chromium": chromium = args[++i]; break;
        case "--lengths": talkSeconds = [.. args[++i].Split(',').Select(n => double.Parse(n, CultureInfo.InvariantCulture))]; break;
        case "--seconds": seconds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--clients": clients = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--uploaders": uploaders = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--searches-per-second": searchesPerSecond = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--sizes": sizes = [.. args[++i].Split(',').Select(n => int.Parse(n, CultureInfo.InvariantCulture))]; break;
    }
}

switch (args.FirstOrDefault())
{
    case "uploads":
        await new UploadBenchmark(dataDirectory, sizeMiB * 1024 * 1024).RunAsync();
        return 0;
    case "shots":
        await new ShotBenchmark(media, args.Contains("--verbose"), keep).RunAsync();
        return 0;
    case "ocr":
        await new ScreenTextBenchmark(media).RunAsync();
        return 0;
    case "speech":
        await new SpeechBenchmark(audio, whisperModel).RunAsync();
        return 0;
    case "vectors":
        await new VectorSearchBenchmark(sizes).RunAsync();
        return 0;
    case "sentences":
        await new SentenceIndexBenchmark(args.Contains("--sizes") ? sizes : [50_000, 500_000], clients, TimeSpan.FromSeconds(seconds ?? 30)).RunAsync();
        return 0;
    case "search":
        await new SearchBenchmark(dataDirectory, sizes, clients, TimeSpan.FromSeconds(seconds ?? 60), args.Contains("--keep")).RunAsync();
        return 0;
    case "web":
        await new WebBenchmark(dataDirectory, videoCount, chromium).RunAsync();
        return 0;
    case "queue":
        await new QueueBenchmark(dataDirectory, args.Contains("--videos") ? videoCount : 10).RunAsync();
        return 0;
    case "indexing":
        await new IndexingBenchmark(dataDirectory, audio, Path.Combine(faces, "obama_1.jpg"), talkSeconds).RunAsync();
        return 0;
    case "load":
        await new LoadBenchmark(dataDirectory, TimeSpan.FromSeconds(seconds ?? 120), uploaders, searchesPerSecond).RunAsync();
        return 0;
    case "people":
        await new PeopleBenchmark(faces).RunAsync();
        return 0;
    case "relevance":
        await new RelevanceBenchmark().RunAsync();
        return 0;
    case "embed":
        await new EmbeddingBenchmark().RunAsync();
        return 0;
    default:
        Console.Error.WriteLine(Usage);
        return 2;
}
