using Heimdex.Api;
using Heimdex.Api.Lectures;
using Heimdex.Api.People;
using Heimdex.Api.Search;
using Heimdex.Api.Uploads;
using Heimdex.Api.Users;
using Heimdex.Api.Videos;
using Heimdex.Api.Web;
using Heimdex.Shared.Uploads;
using Heimdex.Conventions;
using Heimdex.Search;
using Heimdex.Shared;
using Heimdex.Shared.Data;
using Heimdex.Shared.Embeddings;
using Heimdex.Shared.Faces;
using Heimdex.Shared.Models;
using Heimdex.Shared.People;
using Heimdex.Shared.Users;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

if (args is [MigrationStep.Command])
{
    // The AppHost's one-shot step: migrate, register the admin key, exit.
    var migration = Host.CreateApplicationBuilder();
    migration.AddServiceDefaults();
    migration.AddHeimdexDatabase();
    migration.Services.AddScoped<DatabaseMigrator>();
    using var host = migration.Build();
    await using var scope = host.Services.CreateAsyncScope();
    await scope.ServiceProvider.GetRequiredService<DatabaseMigrator>()
        .RunAsync(migration.Configuration[MigrationStep.AdminKeyVariable.Replace("__", ":", StringComparison.Ordinal)], CancellationToken.None);
    return 0;
}

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddHeimdexInfrastructure();
builder.Services.AddApiKeyAuthentication(options => options.SessionCookieName = SessionApi.CookieName);
builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<ServerUnavailable>();
builder.Services.AddOpenApi(options => options.AddDocumentTransformer<ApiDocument>().AddOperationTransformer<ApiExamples>());
builder.Services.AddScoped<OriginalStore>();
builder.Services.AddScoped<VideoIntake>();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.Section);
builder.Services
    .AddLoadedModel(services => SentenceEncoder.Load(services.GetRequiredService<IOptions<ModelOptions>>().Value))
    .AddLoadedModel(services => new FaceAnalyzer(services.GetRequiredService<IOptions<ModelOptions>>().Value));
builder.Services.AddOptions<PeopleOptions>().BindConfiguration(PeopleOptions.Section).ValidateDataAnnotations().ValidateOnStart();
builder.AddSceneSearch();
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = RequestBodyLimits.DefaultBytes);

var app = builder.Build();
// Search embeds every query and reads the faces of query images, and the web app uploads with the tus client: an API
// without those refuses to start, saying what is missing.
if (app.Services.GetRequiredService<LoadedModel<SentenceEncoder>>().FindProblems()
        .Concat(app.Services.GetRequiredService<LoadedModel<FaceAnalyzer>>().FindProblems())
        .Concat(WebApp.FindProblems(app.Services.GetRequiredService<IOptions<ModelOptions>>().Value)).ToList() is { Count: > 0 } problems)
{
    await Console.Error.WriteLineAsync($"The Heimdex API cannot start; it needs:\n  - {string.Join("\n  - ", problems)}");
    return ServiceExitCodes.Misconfigured;
}

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseWebApp();
app.UseAuthentication();
app.UseAuthorization();

app.MapOpenApi().AllowAnonymous();
app.MapScalarApiReference().AllowAnonymous();
app.MapDefaultEndpoints();
app.MapGroup("/api/users").WithTags("Administration").RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy).MapUsersApi();
app.MapGroup("/api/keys").WithTags("Administration").RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy).MapKeysApi();
app.MapGroup("/api/videos").WithTags("Videos").MapVideosApi();
app.MapGroup("/api/videos").WithTags("Lectures").MapLecturesApi();
app.MapGroup("/api/uploads").WithTags("Resumable uploads").MapTusUploadsApi();
app.MapGroup("/api/people").WithTags("People").MapPeopleApi();
app.MapGroup("/api/search").WithTags("Search").MapSearchApi();
app.MapWebApp();
app.Run();
return 0;
