using Amazon.S3;
using Heimdex.AppHost.DevStorage;
using Heimdex.Shared.Storage;

namespace Heimdex.AppHost.Hosting;

/// <summary>
/// S3-compatible object storage: a <c>minio</c> binary when one is on PATH, otherwise Heimdex's development server
/// (this same program, started with <c>dev-storage</c>). Both take MinIO's command line and credential variables,
/// and the services only ever see an S3 endpoint in their connection string.
/// </summary>
public sealed class StorageResource(string name) : Resource(name), IResourceWithConnectionString
{
    private readonly List<string> _buckets = [];
    private string _accessKey = "";
    private string _secretKey = "";
    private int _port;

    public override IEnumerable<SystemRequirement> Requirements => [];

    public override IReadOnlyList<ResourceEndpoint> Endpoints =>
        [new(Name, $"{Endpoint} (buckets: {string.Join(", ", _buckets)}; {(UsesMinio ? "MinIO" : "Heimdex dev storage")})")];

    public string ConnectionName => Name;

    public Resource Owner => this;

    public string ConnectionString => Connection.ToString();

    private static bool UsesMinio => SystemPackages.Find("minio") is not null;

    private Uri Endpoint => new($"http://127.0.0.1:{_port}");

    private StorageConnection Connection => new(Endpoint, _accessKey, _secretKey, _buckets.FirstOrDefault() ?? StorageConnection.DefaultBucket);

    public StorageResource WithBucket(string bucket)
    {
        _buckets.Add(bucket);
        return this;
    }

    public override Task<ProcessSpec> PrepareAsync(HostContext context, CancellationToken cancellationToken)
    {
        var dataDirectory = Directory.CreateDirectory(Path.Combine(context.DataDirectory, Name)).FullName;
        _accessKey = "heimdex-" + context.Secret($"{Name}-access-key")[..12];
        _secretKey = context.Secret($"{Name}-secret-key");
        _port = HostContext.FreePort();
        var environment = new Dictionary<string, string>
        {
            [DevStorageServer.AccessKeyVariable] = _accessKey,
            [DevStorageServer.SecretKeyVariable] = _secretKey,
        };
        var address = $"127.0.0.1:{_port}";
        return Task.FromResult(UsesMinio
            ? new ProcessSpec(SystemPackages.Find("minio")!,
                ["server", dataDirectory, "--address", address, "--console-address", $"127.0.0.1:{HostContext.FreePort()}"],
                environment, dataDirectory)
            : new ProcessSpec(DotnetHost.Path,
                [typeof(DevStorageServer).Assembly.Location, DevStorageServer.Command, "server", dataDirectory, "--address", address],
                environment, dataDirectory));
    }

    public override async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            using var response = await http.GetAsync(new Uri(Endpoint, S3RequestHandler.LivenessPath), cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public override async Task OnHealthyAsync(CancellationToken cancellationToken)
    {
        using var s3 = Connection.CreateClient();
        var existing = (await s3.ListBucketsAsync(cancellationToken)).Buckets?.Select(b => b.BucketName).ToHashSet() ?? [];
        foreach (var bucket in _buckets.Where(b => !existing.Contains(b)))
        {
            await s3.PutBucketAsync(bucket, cancellationToken);
        }
    }
}
