using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;

namespace Heimdex.Tests;

/// <summary>Paths into the repository and ../shared (test media), and small helpers over stored objects.</summary>
public static class TestFiles
{
    public static string RepositoryRoot { get; } =
        typeof(TestFiles).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;

    public static string SharedMedia(params string[] parts) =>
        Path.GetFullPath(Path.Combine([RepositoryRoot, "..", "shared", "media", .. parts]));

    public static string TestVideo => SharedMedia("video", "testvideo.mp4");

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static async Task<string> StoredSha256Async(IAmazonS3 s3, string bucket, string key)
    {
        using var stored = await s3.GetObjectAsync(bucket, key);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stored.ResponseStream));
    }

    /// <summary>Every object key and unfinished multipart upload in the bucket: what "nothing left behind" is checked against.</summary>
    public static async Task<(HashSet<string> Objects, HashSet<string> MultipartUploads)> StorageSnapshotAsync(IAmazonS3 s3, string bucket)
    {
        var objects = new HashSet<string>();
        var request = new ListObjectsV2Request { BucketName = bucket };
        ListObjectsV2Response page;
        do
        {
            page = await s3.ListObjectsV2Async(request);
            objects.UnionWith(page.S3Objects?.Select(o => o.Key) ?? []);
            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);

        var uploads = await s3.ListMultipartUploadsAsync(bucket);
        return (objects, (uploads.MultipartUploads ?? []).Select(u => u.UploadId).ToHashSet());
    }

    /// <summary>A file that sniffs as MP4 (real testvideo.mp4 bytes first) of any length.</summary>
    public static byte[] Mp4Payload(int length)
    {
        var video = File.ReadAllBytes(TestVideo);
        var payload = new byte[length];
        for (var offset = 0; offset < length; offset += video.Length)
        {
            Array.Copy(video, 0, payload, offset, Math.Min(video.Length, length - offset));
        }

        return payload;
    }

    /// <summary>Random bytes behind an MP4's first bytes: accepted as an upload (it sniffs as MP4), failed by validation.</summary>
    public static byte[] NotAVideo(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        Mp4Payload(4096).CopyTo(bytes, 0);
        return bytes;
    }

    public static async Task<(int ExitCode, string Output)> RunAsync(string fileName, string workingDirectory, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, (await output) + (await errors));
    }
}
