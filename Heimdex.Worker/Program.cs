using Hangfire;
using Hangfire.Dashboard;
using Heimdex.Conventions;
using Heimdex.Shared;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Models;
using Heimdex.Shared.People;
using Heimdex.Shared.Pipeline;
using Heimdex.Shared.Users;
using Heimdex.Worker.Engines;
using Heimdex.Worker.Lectures;
using Heimdex.Shared.Faces;
using Heimdex.Worker.People;
using Heimdex.Worker.Pipeline;
using Heimdex.Worker.Speech;
using Heimdex.Worker.Stages;
using Heimdex.Worker.Text;
using Heimdex.Worker.Storage;
using Heimdex.Worker.Uploads;
using Microsoft.Extensions.Options;

// Stages compute for seconds between awaits (shot detection, OCR, face analysis on frames as they are decoded): on two
// cores the pool's first two threads would be held while heartbeats, Hangfire and the database queue behind them until
// the pool grows, about one thread every half second.
ThreadPool.GetMinThreads(out var minWorkers, out var minCompletionPorts);
ThreadPool.SetMinThreads(Math.Max(minWorkers, 16), minCompletionPorts);

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddHeimdexInfrastructure();
builder.Services.AddApiKeyAuthentication(options => options.BasicAuthenticationPath = ServiceEndpoints.HangfireDashboard);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddOptions<PipelineOptions>().BindConfiguration(PipelineOptions.Section).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddSingleton<FFmpeg>();
builder.Services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.Section);
builder.Services
    .AddLoadedModel(services => SpeechRecognizers.Create(services.GetRequiredService<IOptions<ModelOptions>>().Value))
    .AddLoadedModel(_ => new TesseractOcr())
    .AddLoadedModel(services => new FaceAnalyzer(services.GetRequiredService<IOptions<ModelOptions>>().Value))
    .AddLoadedModel(services => SentenceEncoder.Load(services.GetRequiredService<IOptions<ModelOptions>>().Value));

builder.Services.AddPipelineStages();

builder.Services.AddOptions<PeopleOptions>().BindConfiguration(PeopleOptions.Section).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddSingleton<PeopleMatcher>();
builder.Services.AddSingleton<IPeopleJobs, PeopleJobs>();
builder.Services.AddSingleton<PipelineRunner>();
builder.Services.AddSingleton<IVideoPipelineJobs>(services => services.GetRequiredService<PipelineRunner>());
builder.Services.AddSingleton<EnginesHealthCheck>();
builder.Services.AddHealthChecks().AddCheck<EnginesHealthCheck>(EnginesHealthCheck.Name);
builder.Services.AddHostedService<PipelineWatchdog>();
builder.Services.AddHostedService<PipelineGauges>();
builder.Services.AddScoped<ExpireAbandonedUploadsJob>();
builder.Services.AddScoped<SweepOrphanedObjectsJob>();
builder.Services.AddHangfireServer((services, server) =>
{
    var pipeline = services.GetRequiredService<IOptions<PipelineOptions>>().Value;
    server.WorkerCount = pipeline.Workers;
    // Retries with backoff and deferred jobs start when due, not up to 15 s (Hangfire's default polling) later.
    server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
    // As often as a stage's own heartbeat: the watchdog takes a server silent for the heartbeat timeout for dead.
    server.HeartbeatInterval = pipeline.HeartbeatInterval;
});

var app = builder.Build();

if (await SelfCheck.FindProblemsAsync(app.Services) is { Count: > 0 } problems)
{
    await Console.Error.WriteLineAsync($"The Heimdex worker cannot start; it needs:\n  - {string.Join("\n  - ", problems)}");
    return ServiceExitCodes.Misconfigured;
}

foreach (var (engine, runsOn) in app.Services.GetRequiredService<EnginesHealthCheck>().Describe())
{
    app.Logger.LogInformation("Engine {Engine}: {RunsOn}", engine, runsOn);
}

var pipeline = app.Services.GetRequiredService<IOptions<PipelineOptions>>().Value;
GlobalJobFilters.Filters.Remove(GlobalJobFilters.Filters.Single(f => f.Instance is AutomaticRetryAttribute).Instance);
// A stage's own failures are retried by the runner, which counts its attempts; Hangfire retries what fails around
// it (the database or Redis unreachable), and leaves a stage that failed for good to the dashboard's Requeue.
GlobalJobFilters.Filters.Add(new AutomaticRetryAttribute
{
    Attempts = pipeline.MaxAttempts - 1,
    DelaysInSeconds = pipeline.RetryDelaysSeconds,
    ExceptOn = [typeof(StageFailedException)],
});

app.UseAuthentication();
app.UseAuthorization();
app.MapDefaultEndpoints();
// Hangfire's own filter only admits local requests; the administrator's key is the rule instead.
app.MapHangfireDashboard(ServiceEndpoints.HangfireDashboard, new DashboardOptions { Authorization = [], DashboardTitle = "Heimdex jobs" })
    .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);

app.Services.GetRequiredService<IRecurringJobManager>()
    .AddOrUpdate<ExpireAbandonedUploadsJob>(ExpireAbandonedUploadsJob.RecurringJobId, job => job.RunAsync(CancellationToken.None), "*/15 * * * *");
app.Services.GetRequiredService<IRecurringJobManager>()
    .AddOrUpdate<SweepOrphanedObjectsJob>(SweepOrphanedObjectsJob.RecurringJobId, job => job.RunAsync(CancellationToken.None), "0 * * * *");
await app.RunAsync();
return 0;
