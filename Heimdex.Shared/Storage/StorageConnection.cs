using System.Data.Common;
using Amazon.Runtime;
using Amazon.S3;

namespace Heimdex.Shared.Storage;

/// <summary>
/// Where media lives: any S3-compatible endpoint (MinIO, AWS S3, Heimdex's development server), written as
/// <c>Endpoint=http://host:port;AccessKey=…;SecretKey=…;Bucket=…;Region=…</c>.
/// </summary>
public sealed record StorageConnection(Uri Endpoint, string AccessKey, string SecretKey, string Bucket, string Region = StorageConnection.DefaultRegion)
{
    public const string DefaultBucket = "heimdex-media";
    public const string DefaultRegion = "us-east-1";

    public static StorageConnection Parse(string connectionString)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
        string Field(string name) => builder.TryGetValue(name, out var value) && value is string { Length: > 0 } text
            ? text
            : throw new FormatException($"The storage connection string needs {name}=… (Endpoint, AccessKey, SecretKey, Bucket).");

        return new StorageConnection(
            new Uri(Field("Endpoint")),
            Field("AccessKey"),
            Field("SecretKey"),
            Field("Bucket"),
            builder.TryGetValue("Region", out var region) && region is string { Length: > 0 } r ? r : DefaultRegion);
    }

    public override string ToString()
    {
        var builder = new DbConnectionStringBuilder
        {
            ["Endpoint"] = Endpoint.ToString().TrimEnd('/'),
            ["AccessKey"] = AccessKey,
            ["SecretKey"] = SecretKey,
            ["Bucket"] = Bucket,
            ["Region"] = Region,
        };
        return builder.ConnectionString;
    }

    public IAmazonS3 CreateClient() => new AmazonS3Client(
        new BasicAWSCredentials(AccessKey, SecretKey),
        new AmazonS3Config
        {
            ServiceURL = Endpoint.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = Region,
        });
}
