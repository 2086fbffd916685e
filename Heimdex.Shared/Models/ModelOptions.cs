using Heimdex.Conventions;

namespace Heimdex.Shared.Models;

/// <summary>Where models live and which engines run them (configuration section <c>Models</c>).</summary>
public sealed class ModelOptions
{
    public const string Section = "Models";

    /// <summary>The AppHost installs the model packages here on first run.</summary>
    public string CacheDirectory { get; set; } = ModelPackage.DefaultCacheDirectory;

    /// <summary>A whisper.cpp ggml model (e.g. ggml-base.en.bin). When set, speech is transcribed with Whisper instead of pocketsphinx.</summary>
    public string? WhisperModelPath { get; set; }

    /// <summary>Run ONNX models with CUDA when this machine's ONNX Runtime has it; otherwise they run on the CPU.</summary>
    public bool UseCuda { get; set; }

    public int CudaDeviceId { get; set; }

    /// <summary>
    /// The threads one run of an ONNX model may use on the CPU (none: ONNX Runtime's default, one per core). The API
    /// sets one: it runs small inputs (a query, one picture) for many requests at once, where a run split over the
    /// cores waits for threads the other requests and Postgres hold (a query's MiniLM embedding on 2 cores: p50 2.6 ms,
    /// p95 3.0 on one thread; 3.5 and 5.8 on two). The worker's long inputs (a scene's 256 tokens) gain from every core.
    /// </summary>
    public int? ThreadsPerRun { get; set; }

    /// <summary>A model file the installer should have put in the cache, or a problem that says how to get it.</summary>
    public string RequireFile(ModelPackage package, string relativePath)
    {
        var path = package.FileIn(CacheDirectory, relativePath);
        return File.Exists(path)
            ? path
            : throw new ModelMissingException(
                $"model file {path} is missing: {package.Spec} is not installed in the model cache {CacheDirectory}. " +
                "Run `dotnet run --project Heimdex.AppHost -- --install` (or set Models__CacheDirectory).");
    }
}

/// <summary>A model that is not where configuration says: the message tells the user how to install it.</summary>
public sealed class ModelMissingException(string message) : Exception(message);
