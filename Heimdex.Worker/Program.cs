using Hangfire;
using Hangfire.Dashboard;
using Heimdex.Shared;
using Heimdex.Shared.Uploads;
using Heimdex.Shared.Users;
using Heimdex.Worker.Uploads;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddHeimdexInfrastructure();
builder.Services.AddApiKeyAuthentication();
builder.Services.AddHangfireServer();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddScoped<ExpireAbandonedUploadsJob>();

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();
app.MapDefaultEndpoints();
// Hangfire's own filter only admits local requests; the administrator's key is the rule instead.
app.MapHangfireDashboard(ServiceEndpoints.HangfireDashboard, new DashboardOptions { Authorization = [], DashboardTitle = "Heimdex jobs" })
    .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);

var recurring = app.Services.GetRequiredService<IRecurringJobManager>();
recurring.AddOrUpdate<ExpireAbandonedUploadsJob>(ExpireAbandonedUploadsJob.RecurringJobId, job => job.RunAsync(CancellationToken.None), "*/15 * * * *");
app.Run();
