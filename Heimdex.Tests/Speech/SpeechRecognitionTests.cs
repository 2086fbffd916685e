using Heimdex.Conventions;
using Heimdex.Shared.Models;
using Heimdex.Worker.Speech;

namespace Heimdex.Tests.Speech;

public sealed class SpeechRecognitionTests
{
    private static readonly Lazy<PocketsphinxRecognizer> Pocketsphinx = new(() => new PocketsphinxRecognizer());


    [Fact]
    public async Task Pocketsphinx_transcribes_jfk_with_times_inside_the_clip()
    {
        var wav = await TestAudio.ToPcmWavAsync(TestFiles.SharedMedia("audio", "jfk.wav"));
        using var audio = WavFile.Open(wav);

        var segments = await Transcriber.TranscribeAsync(audio, Pocketsphinx.Value, TestContext.Current.CancellationToken);

        var text = string.Join(' ', segments.Select(s => s.Text));
        Assert.Contains("country", text);
        Assert.All(segments, s =>
        {
            Assert.InRange(s.StartSeconds, 0, audio.DurationSeconds);
            Assert.InRange(s.EndSeconds, s.StartSeconds, audio.DurationSeconds);
            Assert.InRange(s.Confidence, 0, 1);
        });
        var country = segments.First(s => s.Text.Contains("country"));
        Assert.True(country.StartSeconds > 3, $"'country' is said late in the clip, not at {country.StartSeconds:0.00} s");
    }

    [Fact]
    public async Task A_recordings_transcript_does_not_depend_on_what_the_recogniser_heard_before()
    {
        using var jfk = WavFile.Open(await TestAudio.ToPcmWavAsync(TestFiles.SharedMedia("audio", "jfk.wav")));
        using var other = WavFile.Open(await TestAudio.ToPcmWavAsync(TestFiles.SharedMedia("audio", "OSR_us_000_0034_8k.wav")));
        async Task<string> Heard(WavFile audio) => string.Join(' ', (await Transcriber.TranscribeAsync(audio, Pocketsphinx.Value, TestContext.Current.CancellationToken)).Select(s => s.Text));

        var first = await Heard(jfk);
        await Heard(other);

        Assert.Equal(first, await Heard(jfk));
        Assert.Contains("what you can do for your country", first);
    }

    [Fact]
    public async Task Voice_activity_splits_at_pauses_and_finds_nothing_in_silence()
    {
        // 1 s silence, 1.5 s of noise, 1 s silence, 1 s of noise, 1 s silence.
        var wav = await TestAudio.SynthesizeAsync([(1, false), (1.5, true), (1, false), (1, true), (1, false)]);
        using var audio = WavFile.Open(wav);

        var regions = VoiceActivity.FindRegions(audio, new VoiceActivity.Settings(), TestContext.Current.CancellationToken);

        Assert.Equal(2, regions.Count);
        Assert.Equal(1.0, regions[0].StartSeconds, 0.2);
        Assert.Equal(2.5, regions[0].EndSeconds, 0.2);
        Assert.Equal(3.5, regions[1].StartSeconds, 0.2);
        Assert.Equal(4.5, regions[1].EndSeconds, 0.2);

        using var silence = WavFile.Open(await TestAudio.SynthesizeAsync([(3, false)]));
        Assert.Empty(VoiceActivity.FindRegions(silence, new VoiceActivity.Settings(), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Long_speech_is_cut_into_regions_no_longer_than_the_recognisers_window()
    {
        using var audio = WavFile.Open(await TestAudio.SynthesizeAsync([(0.5, false), (40, true), (0.5, false)]));

        var regions = VoiceActivity.FindRegions(audio, new VoiceActivity.Settings(MaxRegionSeconds: 10), TestContext.Current.CancellationToken);

        Assert.True(regions.Count >= 4);
        Assert.All(regions, r => Assert.True(r.EndSeconds - r.StartSeconds <= 10.01));
        Assert.All(regions.Zip(regions.Skip(1)), pair => Assert.Equal(pair.First.EndSample, pair.Second.StartSample));
    }

    [Fact]
    public async Task Whisper_net_loads_a_real_ggml_file_and_runs_the_full_pipeline()
    {
        var model = Path.Combine(TestFiles.RepositoryRoot, "..", "shared", "models", "whisper-test-stubs", "for-tests-ggml-tiny.en.bin");
        using var whisper = new WhisperRecognizer(model);
        using var audio = WavFile.Open(await TestAudio.ToPcmWavAsync(TestFiles.SharedMedia("audio", "jfk.wav")));

        // The test files carry the vocabulary and mel filters but no weights: whisper.cpp runs and hears nothing.
        using var session = whisper.StartRecording();
        var segments = session.Recognize(audio.Read(0, (int)audio.SampleCount), TestContext.Current.CancellationToken);

        Assert.Equal("whisper.cpp via Whisper.net 1.9.1 (for-tests-ggml-tiny.en.bin)", whisper.Name);
        Assert.All(segments, s => Assert.InRange(s.StartSeconds, 0, audio.DurationSeconds));
    }

    [Fact]
    public async Task Whisper_refuses_a_file_that_is_not_a_ggml_model_saying_which_and_why()
    {
        var notAModel = Path.Combine(Path.GetTempPath(), $"heimdex-not-a-model-{Guid.NewGuid():N}.bin");
        await File.WriteAllBytesAsync(notAModel, new byte[4096], TestContext.Current.CancellationToken);
        try
        {
            var error = Assert.Throws<InvalidDataException>(() => new WhisperRecognizer(notAModel));
            Assert.Contains(notAModel, error.Message);
            Assert.Contains("ggml Whisper model", error.Message);
        }
        finally
        {
            File.Delete(notAModel);
        }
    }

    [Fact]
    public void Whisper_without_its_model_says_which_file_and_how_to_fix_it()
    {
        var error = Assert.Throws<FileNotFoundException>(() => new WhisperRecognizer("/models/ggml-missing.bin"));

        Assert.Contains("/models/ggml-missing.bin", error.Message);
        Assert.Contains("Models__WhisperModelPath", error.Message);
    }
}
