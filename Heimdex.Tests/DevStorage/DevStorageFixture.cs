using Amazon.S3;
using Heimdex.DevStorage;
using Heimdex.Shared.Storage;
using Microsoft.AspNetCore.Builder;

namespace Heimdex.Tests.DevStorage;

/// <summary>The development S3 server on a free port and a temporary directory, for one test class.</summary>
public sealed class DevStorageFixture : IAsyncLifetime
{
    public static readonly S3Credentials Credentials = new("test-access-key", "test-secret-key-0123456789");

    private WebApplication? _app;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("heimdex-devstorage-").FullName;

    public Uri Endpoint { get; private set; } = null!;

    public IAmazonS3 Client(string? secretKey = null, string? accessKey = null) =>
        new StorageConnection(Endpoint, accessKey ?? Credentials.AccessKey, secretKey ?? Credentials.SecretKey, "unused").CreateClient();

    public async ValueTask InitializeAsync()
    {
        _app = DevStorageServer.Create(DataDirectory, "http://127.0.0.1:0", Credentials);
        await _app.StartAsync();
        Endpoint = new Uri(_app.Urls.Single());
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        Directory.Delete(DataDirectory, recursive: true);
    }
}
