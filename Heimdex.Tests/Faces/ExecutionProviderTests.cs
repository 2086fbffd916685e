using System.Net.Http.Json;
using System.Text.Json;
using Heimdex.Shared.Faces;
using Heimdex.Shared.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Heimdex.Tests.Faces;

/// <summary>ONNX models run on CUDA when asked and a GPU can take them, on the CPU otherwise, and say which.</summary>
public sealed class ExecutionProviderTests
{
    [Fact]
    public void A_model_runs_on_the_cpu_unless_cuda_is_asked_for()
    {
        using var model = OnnxSessions.Create(FaceDetector.ModelPath, new ModelOptions());

        Assert.Equal(OnnxSessions.CpuProvider, model.Provider);
        AssertRuns(model.Session);
    }

    [Fact]
    public void A_run_uses_the_threads_configured_and_otherwise_onnx_runtimes_default()
    {
        using var configured = OnnxSessions.SessionOptionsFor(new ModelOptions { ThreadsPerRun = 1 });
        using var unset = OnnxSessions.SessionOptionsFor(new ModelOptions());

        Assert.Equal(1, configured.IntraOpNumThreads);
        Assert.Equal(0, unset.IntraOpNumThreads); // 0: one thread per core
    }

    [Fact]
    public void Cuda_asked_for_runs_on_the_gpu_where_there_is_one_and_otherwise_on_the_cpu_saying_why()
    {
        using var model = OnnxSessions.Create(FaceDetector.ModelPath, new ModelOptions { UseCuda = true });

        if (File.Exists("/dev/nvidia0"))
        {
            Assert.Equal($"{OnnxSessions.CudaProvider} (device 0)", model.Provider);
        }
        else
        {
            Assert.StartsWith($"{OnnxSessions.CpuProvider} (Models__UseCuda is set, but CUDA could not be used for face_detection_yunet.onnx: ", model.Provider);
            Assert.True(model.Provider.Length > 80, model.Provider); // with the runtime's reason
        }

        AssertRuns(model.Session);
    }

    private static void AssertRuns(InferenceSession session)
    {
        var input = new DenseTensor<float>([1, 3, 160, 160]);
        using var outputs = session.Run([NamedOnnxValue.CreateFromTensor(session.InputNames[0], input)]);
        Assert.NotEmpty(outputs);
    }
}

/// <summary>The worker's health report says what its stages run on.</summary>
[Collection(HeimdexGraphCollection.Name)]
public sealed class WorkerEnginesTests(HeimdexGraph graph)
{
    [Fact]
    public async Task The_workers_health_report_names_its_engines_and_where_each_onnx_model_runs()
    {
        using var client = new HttpClient { BaseAddress = graph.Graph.Endpoint("worker") };
        var report = await client.GetFromJsonAsync<JsonElement>("/health", TestContext.Current.CancellationToken);

        Assert.Equal("Healthy", report.GetProperty("status").GetString());
        var engines = report.GetProperty("checks").GetProperty("engines");
        Assert.Equal("Healthy", engines.GetProperty("status").GetString());
        var data = engines.GetProperty("data");
        Assert.StartsWith("pocketsphinx", data.GetProperty("speech").GetString());
        Assert.StartsWith("tesseract 5", data.GetProperty("ocr").GetString());
        Assert.Equal(OnnxSessions.CpuProvider, data.GetProperty("face detector (YuNet)").GetString());
        Assert.Equal(OnnxSessions.CpuProvider, data.GetProperty("face embedder (fr_feature.onnx)").GetString());
        Assert.Equal(OnnxSessions.CpuProvider, data.GetProperty("sentence encoder (all-MiniLM-L6-v2.onnx)").GetString());
        Assert.False(report.GetProperty("checks").EnumerateObject().Any(check => check.Value.TryGetProperty("description", out _)), "descriptions stay out of the report");
    }
}
