using System.Buffers.Binary;
using System.Text;

namespace Heimdex.Worker.Speech;

/// <summary>
/// The 16 kHz mono 16-bit PCM WAV that <c>extract_audio</c> writes, read a stretch at a time so an hour of audio
/// is never held in memory at once.
/// </summary>
public sealed class WavFile : IDisposable
{
    public const int SampleRate = 16_000;

    private readonly FileStream _file;
    private readonly long _dataOffset;

    private WavFile(FileStream file, long dataOffset, long sampleCount) => (_file, _dataOffset, SampleCount) = (file, dataOffset, sampleCount);

    public long SampleCount { get; }

    public double DurationSeconds => (double)SampleCount / SampleRate;

    public static WavFile Open(string path)
    {
        var file = File.OpenRead(path);
        try
        {
            Span<byte> header = stackalloc byte[12];
            file.ReadExactly(header);
            if (Encoding.ASCII.GetString(header[..4]) != "RIFF" || Encoding.ASCII.GetString(header[8..12]) != "WAVE")
            {
                throw new InvalidDataException($"{path} is not a WAV file.");
            }

            Span<byte> chunk = stackalloc byte[8];
            var formatChecked = false;
            while (true)
            {
                file.ReadExactly(chunk);
                var id = Encoding.ASCII.GetString(chunk[..4]);
                var size = BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]);
                if (id == "fmt ")
                {
                    var format = new byte[size];
                    file.ReadExactly(format);
                    var (encoding, channels, rate, bits) = (BinaryPrimitives.ReadUInt16LittleEndian(format), BinaryPrimitives.ReadUInt16LittleEndian(format.AsSpan(2)),
                        BinaryPrimitives.ReadUInt32LittleEndian(format.AsSpan(4)), BinaryPrimitives.ReadUInt16LittleEndian(format.AsSpan(14)));
                    if (encoding != 1 || channels != 1 || rate != SampleRate || bits != 16)
                    {
                        throw new InvalidDataException($"{path} is {channels}-channel {bits}-bit at {rate} Hz (format {encoding}); speech recognition needs 16 kHz mono 16-bit PCM.");
                    }

                    formatChecked = true;
                }
                else if (id == "data")
                {
                    // ffmpeg writing to a pipe leaves the size unset; the file's length is the truth.
                    var available = (file.Length - file.Position) / 2;
                    return formatChecked
                        ? new WavFile(file, file.Position, size is 0 or uint.MaxValue ? available : Math.Min(available, size / 2))
                        : throw new InvalidDataException($"{path} has no format chunk before its data.");
                }
                else
                {
                    file.Seek(size + (size & 1), SeekOrigin.Current);
                }
            }
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Samples from <paramref name="firstSample"/> on; safe to call from several threads at once (positional reads).</summary>
    public short[] Read(long firstSample, int count)
    {
        count = (int)Math.Clamp(SampleCount - firstSample, 0, count);
        var samples = new short[count];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples.AsSpan());
        for (var done = 0; done < bytes.Length;)
        {
            var read = RandomAccess.Read(_file.SafeFileHandle, bytes[done..], _dataOffset + firstSample * 2 + done);
            done += read > 0 ? read : throw new EndOfStreamException($"The WAV file ends before sample {firstSample + count}.");
        }

        return samples;
    }

    public void Dispose() => _file.Dispose();
}
