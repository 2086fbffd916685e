using System.Diagnostics;
using Heimdex.Shared.Models;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Pipeline;
using Heimdex.Worker.Speech;
using Microsoft.Extensions.Options;

namespace Heimdex.Bench;

/// <summary>
/// Word error rate per clip against transcripts.tsv (case and punctuation normalised) and real-time factor
/// (recognition time / audio duration, voice activity included) for pocketsphinx and, given a model, whisper.cpp.
/// </summary>
public sealed class SpeechBenchmark(string audioDirectory, string? whisperModel)
{
    public async Task RunAsync()
    {
        var engines = new List<ISpeechRecognizer> { new PocketsphinxRecognizer() };
        if (whisperModel is not null)
        {
            engines.Add(SpeechRecognizers.Create(new ModelOptions { WhisperModelPath = whisperModel }));
        }
        else
        {
            Console.WriteLine("whisper.cpp: no model given (--whisper-model PATH to a ggml model); only pocketsphinx is measured.");
        }

        var ffmpeg = new FFmpeg(Options.Create(new PipelineOptions()));
        var clips = (await File.ReadAllLinesAsync(Path.Combine(audioDirectory, "transcripts.tsv"))).Skip(1)
            .Select(line => line.Split('\t')).Select(fields => (File: fields[0], Reference: fields[4])).ToList();
        // "stereo.wav (LEFT channel)": one speaker per channel, each transcribed on its own.
        var work = Directory.CreateTempSubdirectory("heimdex-speech-bench-").FullName;
        Console.WriteLine($"{"clip",-32} {"engine",-14} {"seconds",8} {"WER",6} {"RTF",6}  hypothesis");
        foreach (var engine in engines)
        {
            double totalErrors = 0, totalWords = 0, totalAudio = 0, totalTime = 0;
            foreach (var (file, reference) in clips)
            {
                var channel = file.EndsWith("(LEFT channel)", StringComparison.Ordinal) ? "c0" : file.EndsWith("(RIGHT channel)", StringComparison.Ordinal) ? "c1" : null;
                var source = Path.Combine(audioDirectory, channel is null ? file : file[..file.LastIndexOf(" (", StringComparison.Ordinal)]);
                var wav = Path.Combine(work, $"clip-{totalWords:0}.wav");
                await ffmpeg.RunAsync(["-i", source, .. channel is null ? Array.Empty<string>() : ["-af", $"pan=mono|c0={channel}"],
                    "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "-y", wav], null, CancellationToken.None);
                using var audio = WavFile.Open(wav);
                var clock = Stopwatch.StartNew();
                var hypothesis = string.Join(' ', (await Transcriber.TranscribeAsync(audio, engine, CancellationToken.None)).Select(s => s.Text));
                var seconds = clock.Elapsed.TotalSeconds;
                var (errors, words) = WordErrors(reference, hypothesis);
                (totalErrors, totalWords, totalAudio, totalTime) = (totalErrors + errors, totalWords + words, totalAudio + audio.DurationSeconds, totalTime + seconds);
                var name = engine.Name.Split(' ')[0];
                Console.WriteLine($"{file,-32} {name,-14} {audio.DurationSeconds,8:0.0} {(double)errors / words,6:P0} {seconds / audio.DurationSeconds,6:0.00}  {Shorten(hypothesis)}");
            }

            Console.WriteLine($"{"all clips",-32} {engine.Name.Split(' ')[0],-14} {totalAudio,8:0.0} {totalErrors / totalWords,6:P0} {totalTime / totalAudio,6:0.00}");
        }
    }

    private static string Shorten(string text) => text.Length <= 70 ? text : text[..67] + "...";

    /// <summary>Word-level edit distance between normalised reference and hypothesis, and the reference's length.</summary>
    public static (int Errors, int Words) WordErrors(string reference, string hypothesis)
    {
        var (expected, actual) = (Words(reference), Words(hypothesis));
        var previous = Enumerable.Range(0, actual.Length + 1).ToArray();
        for (var i = 1; i <= expected.Length; i++)
        {
            var current = new int[actual.Length + 1];
            current[0] = i;
            for (var j = 1; j <= actual.Length; j++)
            {
                current[j] = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + (expected[i - 1] == actual[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return (previous[actual.Length], Math.Max(1, expected.Length));
    }

    private static string[] Words(string text) =>
        new string([.. text.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) || c == '\'' ? c : ' ')])
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
