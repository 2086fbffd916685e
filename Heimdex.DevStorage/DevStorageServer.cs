using Heimdex.Conventions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Heimdex.DevStorage;

/// <summary>
/// Heimdex's S3-compatible development server: the stand-in for MinIO when no <c>minio</c> binary is on PATH.
/// It takes MinIO's command line and credentials variables so the AppHost starts either the same way.
/// </summary>
public static class DevStorageServer
{
    public static WebApplication Create(string dataDirectory, string listenUrl, S3Credentials credentials)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(listenUrl);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = null);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(new FileObjectStore(dataDirectory));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(credentials);
        builder.Services.AddSingleton<SigV4Verifier>();
        builder.Services.AddSingleton<S3RequestHandler>();
        var app = builder.Build();
        var handler = app.Services.GetRequiredService<S3RequestHandler>();
        app.Run(handler.HandleAsync);
        return app;
    }

    /// <summary><c>server DIR --address HOST:PORT</c>, credentials from MINIO_ROOT_USER / MINIO_ROOT_PASSWORD.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        if (args is not ["server", var directory, "--address", var address])
        {
            await Console.Error.WriteLineAsync("usage: Heimdex.DevStorage server DIR --address HOST:PORT");
            return 2;
        }

        var accessKey = Environment.GetEnvironmentVariable(StorageServer.AccessKeyVariable);
        var secretKey = Environment.GetEnvironmentVariable(StorageServer.SecretKeyVariable);
        if (string.IsNullOrEmpty(accessKey) || string.IsNullOrEmpty(secretKey))
        {
            await Console.Error.WriteLineAsync($"{StorageServer.AccessKeyVariable} and {StorageServer.SecretKeyVariable} must be set.");
            return 2;
        }

        var app = Create(directory, "http://" + address, new S3Credentials(accessKey, secretKey));
        await app.StartAsync();
        Console.WriteLine($"S3-compatible development storage on http://{address}, data in {Path.GetFullPath(directory)}");
        await app.WaitForShutdownAsync();
        return 0;
    }
}
