using Aspire.Hosting.ApplicationModel;
using Heimdex.AppHost.Provisioning;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Heimdex.AppHost.Resources;

/// <summary>
/// PostgreSQL from Debian's packages, run by DCP on its own data directory and listening on loopback only. Started as
/// root, it runs as the <c>postgres</c> user: <c>setpriv</c> drops the privileges (PostgreSQL refuses root) and
/// otherwise only execs the server.
/// </summary>
public sealed class PostgresServerResource(string name, string dataPath, ParameterResource password)
    : ExecutableResource(name, "setpriv", workingDirectory: "/"), IResourceWithConnectionString
{
    public const string SuperUser = "postgres";
    internal const string EndpointName = "tcp";

    public string DataPath { get; } = dataPath;

    public ParameterResource Password { get; } = password;

    public EndpointReference Endpoint => new(this, EndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={Endpoint.Property(EndpointProperty.Host)};Port={Endpoint.Property(EndpointProperty.Port)};Username={SuperUser};Password={Password}");

    /// <summary>The user the server and initdb run as: none to change to unless the AppHost is root.</summary>
    internal static IEnumerable<string> DropPrivileges =>
        Environment.IsPrivilegedProcess ? [$"--reuid={SuperUser}", $"--regid={SuperUser}", "--init-groups"] : [];
}

/// <summary>A database on a <see cref="PostgresServerResource"/>, created once the server is ready; its connection string names it.</summary>
public sealed class PostgresDatabaseResource(string name, string databaseName, PostgresServerResource server)
    : Resource(name), IResourceWithParent<PostgresServerResource>, IResourceWithConnectionString
{
    public string DatabaseName { get; } = databaseName;

    public PostgresServerResource Parent { get; } = server;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{Parent};Database={DatabaseName}");
}

public static class PostgresServerExtensions
{
    /// <summary>
    /// A PostgreSQL server on <paramref name="data"/>: <c>initdb</c> (scram-sha-256, a random password kept in the data
    /// directory) on its first start, a free loopback port each run, healthy once it accepts a login.
    /// </summary>
    public static IResourceBuilder<PostgresServerResource> AddPostgresServer(
        this IDistributedApplicationBuilder builder, string name, DataDirectory data)
    {
        var password = builder.AddParameter($"{name}-password", () => data.Secret($"{name}-password"), secret: true);
        var server = new PostgresServerResource(name, Path.Combine(data.Path, name), password.Resource);
        var port = DataDirectory.FreePort();
        var healthCheck = $"{name}_check";
        builder.Services.AddHealthChecks().AddAsyncCheck(healthCheck, async cancellationToken =>
            await CanLogInAsync(await ((IResourceWithConnectionString)server).GetConnectionStringAsync(cancellationToken), cancellationToken)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("PostgreSQL does not accept logins yet."));

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(server, (_, cancellationToken) =>
            InitializeAsync(server, data, cancellationToken));
        return builder.AddResource(server)
            .WithEndpoint(PostgresServerResource.EndpointName, endpoint =>
            {
                (endpoint.Port, endpoint.TargetPort, endpoint.IsProxied, endpoint.TargetHost, endpoint.UriScheme) =
                    (port, port, false, "127.0.0.1", "tcp");
            })
            .WithArgs(context =>
            {
                foreach (var argument in (string[])[
                             .. PostgresServerResource.DropPrivileges, "--", SystemPackages.Resolve(SystemRequirement.Postgres),
                             "-D", server.DataPath, "-p", $"{port}", "-h", "127.0.0.1", "-c", "unix_socket_directories="])
                {
                    context.Args.Add(argument);
                }
            })
            .WithSystemPackages(SystemRequirement.Postgres, SystemRequirement.InitDb)
            .WithHealthCheck(healthCheck)
            .WithIconName("DatabaseMultiple");
    }

    public static IResourceBuilder<PostgresDatabaseResource> AddDatabase(this IResourceBuilder<PostgresServerResource> server, string name)
    {
        var database = new PostgresDatabaseResource(name, name, server.Resource);
        return server.ApplicationBuilder.AddResource(database)
            .MadeWhenReady(server.Resource, "PostgresDatabase", cancellationToken => CreateAsync(database, cancellationToken))
            .WithIconName("Database");
    }

    private static async Task<bool> CanLogInAsync(string? connectionString, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString + ";Database=postgres;Timeout=2;Pooling=false");
            await connection.OpenAsync(cancellationToken);
            return true;
        }
        catch (Exception error) when (error is NpgsqlException or TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Makes the cluster on first start: initdb with the password, as the user the server will run as.</summary>
    private static async Task InitializeAsync(PostgresServerResource server, DataDirectory data, CancellationToken cancellationToken)
    {
        var directory = server.DataPath;
        if (File.Exists(Path.Combine(directory, "PG_VERSION")))
        {
            return;
        }

        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true); // a half-made cluster from an interrupted first run
        }

        Directory.CreateDirectory(directory);
        var passwordFile = Path.Combine(data.Path, $"{server.Name}-initdb.pw");
        DataDirectory.WritePrivateFile(passwordFile, (await server.Password.GetValueAsync(cancellationToken))!);
        try
        {
            if (Environment.IsPrivilegedProcess)
            {
                GrantTraversal(directory);
                await RunAsync("chown", ["-R", $"{PostgresServerResource.SuperUser}:{PostgresServerResource.SuperUser}", directory, passwordFile], cancellationToken);
            }

            await RunAsync("setpriv", [
                .. PostgresServerResource.DropPrivileges, "--", SystemPackages.Resolve(SystemRequirement.InitDb),
                "-D", directory, "-U", PostgresServerResource.SuperUser, "-E", "UTF8", "--locale=C.UTF-8",
                "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", $"--pwfile={passwordFile}"], cancellationToken);
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    private static async Task RunAsync(string program, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var (exitCode, output) = await CommandLine.RunAsync(program, arguments, _ => { }, cancellationToken);
        if (exitCode != 0)
        {
            throw new AppHostException($"{program} failed with exit code {exitCode}:\n  {string.Join("\n  ", output)}");
        }
    }

    /// <summary>The server user must be able to reach its data directory through every parent folder.</summary>
    private static void GrantTraversal(string directory)
    {
        for (var parent = Directory.GetParent(directory); parent is not null; parent = parent.Parent)
        {
            var mode = File.GetUnixFileMode(parent.FullName);
            if (!mode.HasFlag(UnixFileMode.OtherExecute))
            {
                File.SetUnixFileMode(parent.FullName, mode | UnixFileMode.OtherExecute);
            }
        }
    }

    private static async Task CreateAsync(PostgresDatabaseResource database, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(
            await ((IResourceWithConnectionString)database.Parent).GetConnectionStringAsync(cancellationToken) + ";Database=postgres;Pooling=false");
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection)
        {
            Parameters = { new() { Value = database.DatabaseName } },
        };
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.DatabaseName}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
