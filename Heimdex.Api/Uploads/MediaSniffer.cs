using System.Text;

namespace Heimdex.Api.Uploads;

/// <summary>Decides a file's container from its first bytes; what the client claims is never trusted.</summary>
public static class MediaSniffer
{
    /// <summary>Enough bytes to recognise every container below (MPEG-TS needs three 188-byte packets).</summary>
    public const int BytesNeeded = 1024;

    public static string? ContainerType(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 12 && head[4..8].SequenceEqual("ftyp"u8))
        {
            var brand = Encoding.ASCII.GetString(head[8..12]);
            return brand switch
            {
                "qt  " => "video/quicktime",
                _ when brand.StartsWith("3g", StringComparison.Ordinal) => "video/3gpp",
                _ => "video/mp4",
            };
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0x1A, 0x45, 0xDF, 0xA3]))
        {
            return head[..Math.Min(head.Length, 64)].IndexOf("webm"u8) >= 0 ? "video/webm" : "video/x-matroska";
        }

        if (head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("AVI "u8))
        {
            return "video/x-msvideo";
        }

        if (head.Length >= 377 && head[0] == 0x47 && head[188] == 0x47 && head[376] == 0x47)
        {
            return "video/mp2t";
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0x01, 0xBA]))
        {
            return "video/mpeg";
        }

        if (head.StartsWith("FLV"u8))
        {
            return "video/x-flv";
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11]))
        {
            return "video/x-ms-wmv";
        }

        return head.StartsWith("OggS"u8) ? "video/ogg" : null;
    }

    public const string SupportedContainers = "MP4/M4V/3GP, QuickTime (MOV), Matroska (MKV), WebM, AVI, MPEG-TS, MPEG-PS, FLV, WMV/ASF and Ogg";
}
