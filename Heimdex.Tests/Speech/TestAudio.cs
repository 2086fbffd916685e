using System.Text;

namespace Heimdex.Tests.Speech;

/// <summary>16 kHz mono 16-bit WAV files for speech tests: real clips converted with ffmpeg, or noise and silence made here.</summary>
public static class TestAudio
{
    public static async Task<string> ToPcmWavAsync(string source)
    {
        var wav = Path.Combine(Directory.CreateTempSubdirectory("heimdex-audio-").FullName, Path.GetFileNameWithoutExtension(source) + ".wav");
        var (exitCode, output) = await TestFiles.RunAsync("ffmpeg", Path.GetTempPath(), "-v", "error", "-i", source, "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "-y", wav);
        Assert.True(exitCode == 0, output);
        return wav;
    }

    /// <summary>Parts of loud white noise (about −20 dBFS) or near silence (about −70 dBFS), in seconds.</summary>
    public static async Task<string> SynthesizeAsync((double Seconds, bool Loud)[] parts)
    {
        var random = new Random(7);
        var samples = parts.SelectMany(part => Enumerable.Range(0, (int)(part.Seconds * 16000))
            .Select(_ => (short)((random.NextDouble() * 2 - 1) * (part.Loud ? 5000 : 10)))).ToArray();
        var path = Path.Combine(Directory.CreateTempSubdirectory("heimdex-audio-").FullName, "synthetic.wav");
        await using var file = File.Create(path);
        await using var writer = new BinaryWriter(file, Encoding.ASCII);
        writer.Write("RIFF"u8);
        writer.Write(36 + samples.Length * 2);
        writer.Write("WAVEfmt "u8);
        writer.Write(16);
        writer.Write((short)1);
        writer.Write((short)1);
        writer.Write(16000);
        writer.Write(32000);
        writer.Write((short)2);
        writer.Write((short)16);
        writer.Write("data"u8);
        writer.Write(samples.Length * 2);
        foreach (var sample in samples)
        {
            writer.Write(sample);
        }

        return path;
    }
}
