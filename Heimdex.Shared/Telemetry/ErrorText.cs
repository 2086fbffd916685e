using System.Text.RegularExpressions;

namespace Heimdex.Shared.Telemetry;

/// <summary>
/// What a user is told of a failure: the exception's message without what only the worker may know. ffmpeg, ffprobe
/// and the storage client name the presigned URLs they read, whose query strings are credentials; connection errors
/// can carry passwords.
/// </summary>
public static partial class ErrorText
{
    public static string Of(Exception error) => Redact(error.Message);

    public static string Redact(string text) =>
        Password().Replace(PresignedQuery().Replace(text, "$1?…"), "$1=…");

    [GeneratedRegex(@"(https?://[^\s?'""]+)\?[^\s'""]*[^\s'"":,.]", RegexOptions.IgnoreCase)]
    private static partial Regex PresignedQuery();

    [GeneratedRegex(@"\b(password|pwd|secret|X-Amz-Credential|X-Amz-Signature)=[^\s;,&'""]+", RegexOptions.IgnoreCase)]
    private static partial Regex Password();
}
