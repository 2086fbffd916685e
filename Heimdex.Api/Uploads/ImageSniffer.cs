using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Heimdex.Api.Uploads;

/// <summary>What an image really is, from its first bytes: what a client claims is not trusted.</summary>
public static class ImageSniffer
{
    public static string? ContentType(ReadOnlySpan<byte> head) => head switch
    {
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => "image/png",
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => "image/webp",
        _ => null,
    };

    /// <summary>
    /// Accepts an image sent as the multipart field <c>file</c> with its real content type, or refuses it with the
    /// problem to answer (400 none sent, 413 larger than <paramref name="maxBytes"/>, 415 not JPEG, PNG or WebP).
    /// The form is already buffered when a handler runs, so the few bytes read here wait on nothing.
    /// </summary>
    public static bool TryAccept(
        [NotNullWhen(true)] IFormFile? file, long maxBytes,
        [NotNullWhen(true)] out string? contentType, [NotNullWhen(false)] out ProblemHttpResult? problem)
    {
        (contentType, problem) = (null, null);
        if (file is null || file.Length == 0)
        {
            problem = TypedResults.Problem("Send the image as a multipart form field named `file`.", statusCode: 400, title: "No image");
            return false;
        }

        if (file.Length > maxBytes)
        {
            problem = TypedResults.Problem($"The image may be at most {maxBytes / 1024 / 1024} MiB.", statusCode: 413, title: "Image too large");
            return false;
        }

        using var content = file.OpenReadStream();
        Span<byte> head = stackalloc byte[16];
        contentType = ContentType(head[..content.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)]);
        if (contentType is null)
        {
            problem = TypedResults.Problem("The file is not a JPEG, PNG or WebP image.", statusCode: 415, title: "Unsupported image");
            return false;
        }

        return true;
    }
}
