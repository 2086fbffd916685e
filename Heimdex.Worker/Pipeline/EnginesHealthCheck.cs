using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Faces;
using Heimdex.Shared.Models;
using Heimdex.Worker.Speech;
using Heimdex.Worker.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Heimdex.Worker.Pipeline;

/// <summary>
/// What the stages run on — the speech and OCR engines, and the execution provider of each ONNX model (CUDA, or the
/// CPU and why) — in the worker's health report and, once the self-check has loaded them, in its log.
/// </summary>
public sealed class EnginesHealthCheck(
    LoadedModel<ISpeechRecognizer> speech, LoadedModel<TesseractOcr> ocr, LoadedModel<FaceAnalyzer> faces, LoadedModel<SentenceEncoder> encoder) : IHealthCheck
{
    public const string Name = "engines";

    public IReadOnlyDictionary<string, object> Describe() =>
        new Dictionary<string, object>
        {
            ["speech"] = speech.Value.Name,
            ["ocr"] = ocr.Value.Name,
            [$"sentence encoder ({MiniLmGraph.Name})"] = encoder.Value.Provider,
        }
            .Concat(faces.Value.Providers.Select(model => KeyValuePair.Create(model.Key, (object)model.Value)))
            .ToDictionary();

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(HealthCheckResult.Healthy("every engine loaded", Describe()));
}
