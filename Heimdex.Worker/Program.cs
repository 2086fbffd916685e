using Hangfire;
using Heimdex.Shared;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddHeimdexInfrastructure();
builder.Services.AddHangfireServer();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapHangfireDashboard(ServiceEndpoints.HangfireDashboard);
app.Run();
