using Heimdex.AppHost.DevStorage;
using Heimdex.AppHost.Hosting;
using Heimdex.Shared;
using Heimdex.Shared.Data;
using Heimdex.Shared.Models;
using Heimdex.Shared.Storage;

if (args is [DevStorageServer.Command, .. var storageArgs])
{
    return await DevStorageServer.RunAsync(storageArgs);
}

var builder = DistributedApplication.CreateBuilder(args);

var database = builder.AddPostgres("postgres").AddDatabase(ConnectionNames.Database);
var redis = builder.AddRedis(ConnectionNames.Redis);
var storage = builder.AddStorage(ConnectionNames.Storage).WithBucket(StorageConnection.DefaultBucket);

var migrations = builder.AddProject("migrations", "Heimdex.Api")
    .AsOneShot(DatabaseMigrator.Command)
    .WithEnvironment(DatabaseMigrator.AdminKeyVariable, host => host.AdminApiKey())
    .WithReference(database).WaitFor(database);

builder.AddProject("api", "Heimdex.Api")
    .WithHttpEndpoint(port: builder.Options.ApiPort)
    .WithLink("openapi", ServiceEndpoints.OpenApiDocument)
    .WithLink("scalar", ServiceEndpoints.Scalar)
    .WithModels(ModelPackage.MiniLm, ModelPackage.FaceRecognition)
    .WaitForCompletion(migrations)
    .WithReference(database).WaitFor(database)
    .WithReference(redis).WaitFor(redis)
    .WithReference(storage).WaitFor(storage);

builder.AddProject("worker", "Heimdex.Worker")
    .WithRequirement(SystemRequirement.FFmpeg, SystemRequirement.FFprobe)
    .WithRequirement(SystemRequirement.Pocketsphinx, SystemRequirement.PocketsphinxEnglish)
    .WithRequirement(SystemRequirement.Tesseract, SystemRequirement.TesseractEnglish)
    .WithModels(ModelPackage.MiniLm, ModelPackage.FaceRecognition, ModelPackage.WhisperEngine)
    .WithLink("hangfire", ServiceEndpoints.HangfireDashboard)
    .WaitForCompletion(migrations)
    .WithReference(database).WaitFor(database)
    .WithReference(redis).WaitFor(redis)
    .WithReference(storage).WaitFor(storage);

return await builder.Build().RunAsync();
