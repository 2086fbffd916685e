namespace Heimdex.Search.Indexes;

/// <summary>
/// Guids as the snapshots write them, their 16 bytes in <see cref="Guid.TryWriteBytes(Span{byte})"/>'s order, without
/// an array per value: a restart reads a million of them.
/// </summary>
internal static class SnapshotGuids
{
    public static void WriteGuid(this BinaryWriter writer, Guid value)
    {
        Span<byte> bytes = stackalloc byte[16];
        value.TryWriteBytes(bytes);
        writer.Write(bytes);
    }

    public static Guid ReadGuid(this BinaryReader reader)
    {
        Span<byte> bytes = stackalloc byte[16];
        reader.BaseStream.ReadExactly(bytes);
        return new Guid(bytes);
    }
}
