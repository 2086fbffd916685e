using Hangfire;
using Hangfire.Redis.StackExchange;
using Heimdex.Shared.Data;
using Heimdex.Shared.People;
using Heimdex.Shared.Pipeline;
using Heimdex.Shared.Storage;
using Heimdex.Shared.Uploads;
using Microsoft.EntityFrameworkCore;
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
    public static IHostApplicationBuilder AddHeimdexDatabase(this IHostApplicationBuilder builder)
    {
        var database = builder.Configuration.Required(ConnectionNames.Database);
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(database));
        builder.Services.AddDbContext<HeimdexDbContext>((provider, options) => options.UseNpgsql(provider.GetRequiredService<NpgsqlDataSource>()));
        return builder;
    }

    public static IHostApplicationBuilder AddHeimdexInfrastructure(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var services = builder.Services;
        builder.AddHeimdexDatabase();

        var redisOptions = ConfigurationOptions.Parse(configuration.Required(ConnectionNames.Redis));
        redisOptions.AbortOnConnectFail = false; // keep retrying: the server may start after us
        services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redisOptions));

        var storage = StorageConnection.Parse(configuration.Required(ConnectionNames.Storage));
        services.AddSingleton(storage);
        services.AddSingleton(_ => storage.CreateClient());
        services.AddSingleton<ObjectStore>();
        services.AddOptions<UploadOptions>().BindConfiguration(UploadOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        services.AddHangfire((provider, hangfire) => hangfire
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseRedisStorage(provider.GetRequiredService<IConnectionMultiplexer>(), new RedisStorageOptions
            {
                Prefix = HangfirePrefix,
                // Longer than any stage may run (Pipeline:StageTimeout, 2 h), so Hangfire never hands a live job to a
                // second worker; a dead worker's stage is resumed within a minute by the pipeline's own heartbeat watchdog.
                InvisibilityTimeout = TimeSpan.FromHours(3),
            }));
        services.AddSingleton<IVideoPipeline, HangfireVideoPipeline>();
        services.AddSingleton<IPeopleQueue, HangfirePeopleQueue>();

        services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>(ConnectionNames.Database)
            .AddCheck<RedisHealthCheck>(ConnectionNames.Redis)
            .AddCheck<StorageHealthCheck>(ConnectionNames.Storage);
        return builder;
    }

    private sealed class PostgresHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var command = dataSource.CreateCommand("SELECT 1");
                await command.ExecuteScalarAsync(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception error) when (error is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                return HealthCheckResult.Unhealthy("PostgreSQL is not reachable.", error);
            }
        }
    }

    private sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await redis.GetDatabase().PingAsync();
                return HealthCheckResult.Healthy();
            }
            catch (RedisException error)
            {
                return HealthCheckResult.Unhealthy("Redis is not reachable.", error);
            }
        }
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
