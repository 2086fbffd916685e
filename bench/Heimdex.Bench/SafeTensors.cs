using System.Buffers.Binary;
using System.Text.Json;

namespace Heimdex.Bench;

/// <summary>Reads tensors from a .safetensors file (an 8-byte header length, a JSON header, then raw little-endian data).</summary>
public sealed class SafeTensors
{
    private readonly Dictionary<string, (string DType, long[] Shape, long Begin, long End)> _tensors = [];
    private readonly byte[] _data;

    private SafeTensors(byte[] data) => _data = data;

    public static SafeTensors Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8)
        {
            throw new InvalidDataException($"{path} is not a safetensors file (too short).");
        }

        var headerLength = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        var file = new SafeTensors(bytes);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        foreach (var entry in header.RootElement.EnumerateObject().Where(e => e.Name != "__metadata__"))
        {
            var offsets = entry.Value.GetProperty("data_offsets");
            file._tensors[entry.Name] = (
                entry.Value.GetProperty("dtype").GetString()!,
                [.. entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())],
                8 + headerLength + offsets[0].GetInt64(),
                8 + headerLength + offsets[1].GetInt64());
        }

        return file;
    }

    /// <summary>A tensor as 32-bit floats, whatever its stored float type; its shape is checked against what the caller expects.</summary>
    public float[] Floats(string name, params long[] expectedShape)
    {
        if (!_tensors.TryGetValue(name, out var tensor))
        {
            throw new InvalidDataException($"tensor {name} is missing from the weights file.");
        }

        if (!tensor.Shape.SequenceEqual(expectedShape))
        {
            throw new InvalidDataException($"tensor {name} has shape [{string.Join(", ", tensor.Shape)}], expected [{string.Join(", ", expectedShape)}].");
        }

        var raw = _data.AsSpan((int)tensor.Begin, (int)(tensor.End - tensor.Begin));
        switch (tensor.DType)
        {
            case "F32":
                return [.. System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw)];
            case "F16":
                var halves = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(raw);
                var floats = new float[halves.Length];
                System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(halves, floats);
                return floats;
            default:
                throw new InvalidDataException($"tensor {name} is {tensor.DType}; only F16 and F32 are supported.");
        }
    }
}
