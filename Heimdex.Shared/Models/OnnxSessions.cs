using Microsoft.ML.OnnxRuntime;

namespace Heimdex.Shared.Models;

/// <summary>A loaded ONNX model and the execution provider it runs on (with why a requested GPU was not used).</summary>
public sealed record OnnxModel(InferenceSession Session, string Provider) : IDisposable
{
    public void Dispose() => Session.Dispose();
}

/// <summary>
/// ONNX Runtime sessions (the CUDA-enabled build for Linux): on CUDA when <see cref="ModelOptions.UseCuda"/> is set and
/// the CUDA provider loads on this machine (a GPU with its driver, CUDA and cuDNN), otherwise on the CPU.
/// </summary>
public static class OnnxSessions
{
    public const string CudaProvider = "CUDAExecutionProvider";
    public const string CpuProvider = "CPUExecutionProvider";

    public static OnnxModel Create(string modelPath, ModelOptions options) =>
        Create(Path.GetFileName(modelPath), options, sessionOptions => new InferenceSession(modelPath, sessionOptions));

    public static OnnxModel Create(byte[] model, string name, ModelOptions options) =>
        Create(name, options, sessionOptions => new InferenceSession(model, sessionOptions));

    private static OnnxModel Create(string name, ModelOptions options, Func<SessionOptions, InferenceSession> open)
    {
        var cpu = CpuProvider;
        if (options.UseCuda)
        {
            try
            {
                using var cuda = SessionOptionsFor(options);
                cuda.AppendExecutionProvider_CUDA(options.CudaDeviceId);
                return new OnnxModel(open(cuda), $"{CudaProvider} (device {options.CudaDeviceId})");
            }
            catch (OnnxRuntimeException error)
            {
                // The provider library is in the package; what it needs (driver, CUDA, cuDNN) may not be on this machine.
                cpu = $"{CpuProvider} (Models__UseCuda is set, but CUDA could not be used for {name}: {error.Message.Split('\n')[0].Trim()})";
            }
        }

        using var plain = SessionOptionsFor(options);
        return new OnnxModel(open(plain), cpu);
    }

    /// <summary>The session options every model is opened with, on the threads per run <paramref name="models"/> gives.</summary>
    public static SessionOptions SessionOptionsFor(ModelOptions models)
    {
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        // ONNX Runtime's threads otherwise spin for work between and within runs: on a worker whose other stages
        // (transcription, decoding) keep every core busy, that spinning takes the CPU they need.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        if (models.ThreadsPerRun is { } threads)
        {
            options.IntraOpNumThreads = threads;
        }

        return options;
    }
}
