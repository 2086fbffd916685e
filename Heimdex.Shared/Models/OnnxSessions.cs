using Heimdex.Shared.Models;
using Microsoft.ML.OnnxRuntime;

namespace Heimdex.Shared.Models;

/// <summary>ONNX Runtime sessions, on CUDA when configured and this machine's ONNX Runtime has the CUDA provider, otherwise on the CPU.</summary>
public static class OnnxSessions
{
    public const string CudaProvider = "CUDAExecutionProvider";

    public static InferenceSession Create(string modelPath, ModelOptions options)
    {
        using var session = new Microsoft.ML.OnnxRuntime.SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (UsesCuda(options))
        {
            session.AppendExecutionProvider_CUDA(options.CudaDeviceId);
        }

        return new InferenceSession(modelPath, session);
    }

    public static bool UsesCuda(ModelOptions options) => options.UseCuda && OrtEnv.Instance().GetAvailableProviders().Contains(CudaProvider);
}
