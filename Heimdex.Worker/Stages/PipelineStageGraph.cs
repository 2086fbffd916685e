using Heimdex.Worker.Lectures;
using Heimdex.Worker.Pipeline;

namespace Heimdex.Worker.Stages;

public static class PipelineStageGraph
{
    /// <summary>
    /// The pipeline: each stage with the stages it needs. The audio branch (extract_audio → transcribe) and the
    /// picture branch (detect_shots → ocr → keyframes → faces and slides) run at once; they join at people (→ embed)
    /// and at notes, and finalize waits for both. ocr comes before keyframes so that the one decode keyframes makes
    /// takes the slide pictures too. Adding a stage is one class and one line here.
    /// </summary>
    public static IServiceCollection AddPipelineStages(this IServiceCollection services) => services
        .AddStage<ValidateStage>()
        .AddStage<ExtractAudioStage>(ValidateStage.StageName)
        .AddStage<TranscribeStage>(ExtractAudioStage.StageName)
        .AddStage<DetectShotsStage>(ValidateStage.StageName)
        .AddStage<OcrStage>(DetectShotsStage.StageName)
        .AddStage<KeyframesStage>(OcrStage.StageName)
        .AddStage<FacesStage>(KeyframesStage.StageName)
        .AddStage<SlidesStage>(KeyframesStage.StageName)
        .AddStage<PeopleStage>(FacesStage.StageName, TranscribeStage.StageName)
        .AddStage<EmbedStage>(PeopleStage.StageName)
        .AddStage<NotesStage>(SlidesStage.StageName, TranscribeStage.StageName)
        .AddStage<FinalizeStage>(EmbedStage.StageName, NotesStage.StageName);
}
