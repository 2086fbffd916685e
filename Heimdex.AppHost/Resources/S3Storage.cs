using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Util;
using Aspire.Hosting.ApplicationModel;
using Heimdex.AppHost.Provisioning;
using Heimdex.Conventions;

namespace Heimdex.AppHost.Resources;

/// <summary>
/// A bucket on the S3 storage server, which is what services reference: one connection string with the endpoint,
/// the keys and the bucket (<c>Endpoint=…;AccessKey=…;SecretKey=…;Bucket=…</c>), whatever server is behind it.
/// </summary>
public sealed class S3BucketResource(
    string name, string bucketName, IResourceWithEndpoints server, ParameterResource accessKey, ParameterResource secretKey)
    : Resource(name), IResourceWithParent, IResourceWithConnectionString
{
    public string BucketName { get; } = bucketName;

    public IResource Parent { get; } = server;

    public EndpointReference Endpoint { get; } = new(server, "http");

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Endpoint={Endpoint.Property(EndpointProperty.Url)};AccessKey={accessKey};SecretKey={secretKey};Bucket={BucketName}");

    internal async Task<IAmazonS3> CreateClientAsync(CancellationToken cancellationToken) => new AmazonS3Client(
        new BasicAWSCredentials(await accessKey.GetValueAsync(cancellationToken), await secretKey.GetValueAsync(cancellationToken)),
        new AmazonS3Config { ServiceURL = await Endpoint.GetValueAsync(cancellationToken), ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
}

public static class S3StorageExtensions
{
    /// <summary>
    /// S3-compatible storage on <paramref name="data"/> with <paramref name="bucketName"/> made in it: a <c>minio</c>
    /// binary when one is on PATH, otherwise Heimdex's development server (<c>Heimdex.DevStorage</c>). Both take
    /// MinIO's command line and credential variables; services only ever see the bucket's connection string.
    /// </summary>
    public static IResourceBuilder<S3BucketResource> AddS3Storage(
        this IDistributedApplicationBuilder builder, string serverName, string connectionName, string bucketName, DataDirectory data)
    {
        var accessKey = builder.AddParameter($"{serverName}-access-key", () => "heimdex-" + data.Secret($"{serverName}-access-key")[..12]);
        var secretKey = builder.AddParameter($"{serverName}-secret-key", () => data.Secret($"{serverName}-secret-key"), secret: true);
        var dataPath = Path.Combine(data.Path, serverName);
        var port = DataDirectory.FreePort();
        string[] arguments = ["server", dataPath, "--address", $"127.0.0.1:{port}"];
        IResource server = SystemPackages.Find("minio") is { } minio
            ? Serve(builder.AddExecutable(serverName, minio, "/", [.. arguments, "--console-address", $"127.0.0.1:{DataDirectory.FreePort()}"]))
            : Serve(builder.AddProject<Projects.Heimdex_DevStorage>(serverName).WithArgs(arguments));

        var bucket = new S3BucketResource(connectionName, bucketName, (IResourceWithEndpoints)server, accessKey.Resource, secretKey.Resource);
        return builder.AddResource(bucket)
            .MadeWhenReady(server, "S3Bucket", cancellationToken => CreateAsync(bucket, cancellationToken))
            .WithIconName("Archive");

        T Serve<T>(IResourceBuilder<T> storage) where T : IResourceWithEnvironment, IResourceWithEndpoints
        {
            builder.Eventing.Subscribe<BeforeResourceStartedEvent>(storage.Resource, (_, _) =>
            {
                DataDirectory.CreatePrivateFolder(dataPath);
                return Task.CompletedTask;
            });
            return storage
                .WithEnvironment(StorageServer.AccessKeyVariable, accessKey)
                .WithEnvironment(StorageServer.SecretKeyVariable, secretKey)
                .WithHttpEndpoint(port: port, targetPort: port, isProxied: false)
                .WithEndpoint("http", endpoint => endpoint.TargetHost = "127.0.0.1")
                .WithHttpHealthCheck(StorageServer.LivenessPath)
                .WithIconName("Storage")
                .Resource;
        }
    }

    private static async Task CreateAsync(S3BucketResource bucket, CancellationToken cancellationToken)
    {
        using var s3 = await bucket.CreateClientAsync(cancellationToken);
        if (!await AmazonS3Util.DoesS3BucketExistV2Async(s3, bucket.BucketName))
        {
            await s3.PutBucketAsync(bucket.BucketName, cancellationToken);
        }
    }
}
