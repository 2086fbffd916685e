namespace Heimdex.DevStorage;

/// <summary>An S3 error as the wire protocol names it; becomes an <c>&lt;Error&gt;</c> XML response.</summary>
public sealed class S3Exception(int statusCode, string code, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
    public string Code { get; } = code;

    public static S3Exception NoSuchBucket(string bucket) => new(404, "NoSuchBucket", $"The specified bucket '{bucket}' does not exist.");
    public static S3Exception NoSuchKey(string key) => new(404, "NoSuchKey", $"The specified key '{key}' does not exist.");
    public static S3Exception NoSuchUpload(string uploadId) => new(404, "NoSuchUpload", $"The specified multipart upload '{uploadId}' does not exist.");
    public static S3Exception InvalidArgument(string message) => new(400, "InvalidArgument", message);
    public static S3Exception MalformedXml(string message) => new(400, "MalformedXML", message);
    public static S3Exception AccessDenied(string message) => new(403, "AccessDenied", message);
    public static S3Exception SignatureDoesNotMatch() => new(403, "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
}
