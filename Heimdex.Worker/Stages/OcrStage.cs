using Heimdex.Shared.Models;
using Heimdex.Shared.Videos;
using Heimdex.Worker.Pipeline;
using Heimdex.Worker.Text;
using Microsoft.EntityFrameworkCore;

namespace Heimdex.Worker.Stages;

/// <summary>
/// Text on each scene's keyframe. A line that the previous scene also showed extends that line's time range instead
/// of being stored again, so a slide held across several shots is one row.
/// </summary>
public sealed class OcrStage(LoadedModel<TesseractOcr> ocr) : IPipelineStage
{
    public static string StageName => "ocr";

    /// <summary>Lines Tesseract is less sure of are mostly texture read as letters.</summary>
    public const double MinConfidence = 0.6;

    public IEnumerable<string> FindProblems() => ocr.FindProblems();

    public async Task<StageOutcome> ExecuteAsync(StageContext context, IProgress<double> progress, CancellationToken cancellationToken)
    {
        var video = context.Video;
        var scenes = await context.Db.Scenes.Where(s => s.VideoId == video.Id && s.KeyframeKey != null).OrderBy(s => s.Index).ToListAsync(cancellationToken);
        var texts = new List<OnScreenText>();
        var showing = new Dictionary<string, OnScreenText>();
        var keyframe = Path.Combine(context.WorkDirectory, "keyframe.jpg");
        for (var i = 0; i < scenes.Count; i++)
        {
            var scene = scenes[i];
            await context.Store.DownloadFileAsync(scene.KeyframeKey!, keyframe, cancellationToken);
            var current = new Dictionary<string, OnScreenText>();
            foreach (var line in ocr.Value.Read(keyframe).Where(IsText))
            {
                var key = Normalize(line.Text);
                if (current.ContainsKey(key))
                {
                    continue;
                }

                if (showing.TryGetValue(key, out var shown))
                {
                    shown.EndSeconds = scene.EndSeconds;
                    current[key] = shown;
                    continue;
                }

                var text = new OnScreenText
                {
                    VideoId = video.Id,
                    SceneId = scene.Id,
                    StartSeconds = scene.StartSeconds,
                    EndSeconds = scene.EndSeconds,
                    Text = line.Text,
                    Confidence = line.Confidence,
                };
                texts.Add(text);
                current[key] = text;
            }

            showing = current;
            progress.Report((i + 1.0) / scenes.Count);
        }

        await context.ReplaceRowsAsync(context.Db.OnScreenTexts.Where(t => t.VideoId == video.Id), texts, cancellationToken);
        return StageOutcome.Done();
    }

    /// <summary>
    /// A line worth storing: read with confidence, holding a word (three letters in a row), and mostly letters and
    /// digits — "~ ee" or "(Go" is texture or an edge read as letters.
    /// </summary>
    public static bool IsText(TextLine line)
    {
        var visible = line.Text.Count(c => !char.IsWhiteSpace(c));
        return line.Confidence >= MinConfidence
               && line.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Any(word => LongestLetterRun(word) >= 3)
               && line.Text.Count(char.IsLetterOrDigit) * 3 >= visible * 2;
    }

    private static int LongestLetterRun(string word)
    {
        int longest = 0, run = 0;
        foreach (var c in word)
        {
            run = char.IsLetter(c) ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        return longest;
    }

    /// <summary>Case, spacing and punctuation vary between reads of the same line; the letters and digits do not.</summary>
    internal static string Normalize(string text) => string.Concat(text.Where(char.IsLetterOrDigit)).ToLowerInvariant();
}
