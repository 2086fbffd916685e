using Hangfire;
using Hangfire.Redis.StackExchange;
using Heimdex.Conventions;
using Heimdex.Shared.Data;
using Heimdex.Shared.People;
using Heimdex.Shared.Pipeline;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Telemetry;
using Heimdex.Shared.Uploads;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Npgsql;
using StackExchange.Redis;

namespace Heimdex.Shared;

/// <summary>The servers both API and worker depend on, each registered once and each with a readiness check.</summary>
public static class InfrastructureRegistration
{
    public const string HangfirePrefix = "heimdex:hangfire:";

    /// <summary>PostgreSQL and the one EF Core model; all the migration step needs.</summary>
    /// <remarks>
    /// Aspire's client integrations bring health checks, traces and metrics for both. EF's retrying execution
    /// strategy is off: stages and photo jobs open their own transactions, which it refuses, and a failed job is
    /// retried whole by Hangfire instead.
    /// </remarks>
    public static IHostApplicationBuilder AddHeimdexDatabase(this IHostApplicationBuilder builder)
    {
        // Raw SQL: advisory locks, heartbeats, streamed reads.
        builder.AddNpgsqlDataSource(ConnectionNames.Database, settings => settings.ConnectionString = AutoPrepared(settings.ConnectionString));
        builder.AddNpgsqlDbContext<HeimdexDbContext>(ConnectionNames.Database, settings =>
        {
            settings.DisableRetry = true;
            settings.ConnectionString = AutoPrepared(settings.ConnectionString);
        });
        return builder;
    }

    /// <summary>
    /// Npgsql prepares a statement on a connection the second time the connection runs it, unless the connection string
    /// chose otherwise. Search runs the same few statements on every request; prepared, PostgreSQL parses and analyses
    /// each once per connection instead of once per request (at 20,000 scenes a small library's search went from 19 to
    /// 13 ms).
    /// </summary>
    private static string? AutoPrepared(string? connectionString)
    {
        if (connectionString is null || new NpgsqlConnectionStringBuilder(connectionString) is not { MaxAutoPrepare: 0 } settings)
        {
            return connectionString;
        }

        (settings.MaxAutoPrepare, settings.AutoPrepareMinUsages) = (64, 2);
        return settings.ConnectionString;
    }

    public static IHostApplicationBuilder AddHeimdexInfrastructure(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var services = builder.Services;
        builder.AddHeimdexDatabase();

        // One multiplexer for Hangfire's storage, search's reload channel and everything else.
        builder.AddRedisClient(ConnectionNames.Redis, configureOptions: redis => redis.AbortOnConnectFail = false);

        var storage = StorageConnection.Parse(configuration.Required(ConnectionNames.Storage));
        services.AddSingleton(storage);
        services.AddSingleton(_ => storage.CreateClient());
        services.AddSingleton<ObjectStore>();
        services.AddOptions<UploadOptions>().BindConfiguration(UploadOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        services.AddHangfire((provider, hangfire) => hangfire
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseFilter(new JobTracing())
            .UseRedisStorage(provider.GetRequiredService<IConnectionMultiplexer>(), new RedisStorageOptions
            {
                Prefix = HangfirePrefix,
                // Longer than any stage may run (Pipeline:StageTimeout, 2 h), so Hangfire never hands a live job to a
                // second worker; a dead worker's stage is resumed within a minute by the pipeline's own heartbeat watchdog.
                InvisibilityTimeout = TimeSpan.FromHours(3),
            }));
        services.AddSingleton<IVideoPipeline, HangfireVideoPipeline>();
        services.AddSingleton<IPeopleQueue, HangfirePeopleQueue>();

        services.AddHealthChecks().AddCheck<StorageHealthCheck>(ConnectionNames.Storage);
        return builder;
    }

    private sealed class StorageHealthCheck(Amazon.S3.IAmazonS3 s3, StorageConnection storage) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await s3.ListObjectsV2Async(new() { BucketName = storage.Bucket, MaxKeys = 1 }, cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception error) when (error is Amazon.Runtime.AmazonServiceException or HttpRequestException)
            {
                return HealthCheckResult.Unhealthy($"Storage bucket '{storage.Bucket}' is not reachable at {storage.Endpoint}.", error);
            }
        }
    }
}
