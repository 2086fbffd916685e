using Heimdex.Conventions;
using Heimdex.Shared.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Heimdex.Shared.Data;

/// <summary>
/// The one-shot step the AppHost runs before the API and worker start, so they never race to change the schema:
/// apply migrations, then make sure the administrator's key exists.
/// </summary>
public sealed class DatabaseMigrator(HeimdexDbContext db, ILogger<DatabaseMigrator> logger)
{
    public async Task RunAsync(string? adminKey, CancellationToken cancellationToken)
    {
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        await db.Database.MigrateAsync(cancellationToken);
        logger.LogInformation("Database schema is current ({Count} migrations applied now)", pending.Count);

        if (adminKey is null)
        {
            return;
        }

        if (!ApiKeyCredential.TryParse(adminKey, out var credential))
        {
            throw new InvalidOperationException($"{MigrationStep.AdminKeyVariable} is not a Heimdex API key (hx_<prefix>_<secret>).");
        }

        if (await db.ApiKeys.AnyAsync(k => k.Prefix == credential.Prefix, cancellationToken))
        {
            return;
        }

        var admin = await db.Users.OrderBy(u => u.CreatedAt).FirstOrDefaultAsync(u => u.IsAdmin, cancellationToken)
                    ?? db.Users.Add(new User { Name = "admin", IsAdmin = true }).Entity;
        db.ApiKeys.Add(ApiKey.From(credential, admin.Id, "admin key created by the AppHost"));
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Administrator key {Prefix} registered", credential.Prefix);
    }
}
