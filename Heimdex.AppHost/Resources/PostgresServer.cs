using System.Globalization;
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
public sealed class PostgresServerResource(string name, DataDirectory data, ParameterResource password)
    : ExecutableResource(name, "setpriv", workingDirectory: "/"), IResourceWithConnectionString
{
    public const string SuperUser = "postgres";
    internal const string EndpointName = "tcp";

    /// <summary>
    /// Room for every service's pools (<see cref="PostgresDatabaseResource.MaxPoolSize"/> each) with replicas and
    /// tools beside them; PostgreSQL's default of 100, less the superuser's reserved slots, is two services' worth.
    /// </summary>
    public const int MaxConnections = 300;

    internal DataDirectory Data { get; } = data;

    public string DataPath { get; } = Path.Combine(data.Path, name);

    public ParameterResource Password { get; } = password;

    public EndpointReference Endpoint => new(this, EndpointName);

    public ReferenceExpression ConnectionStringExpression => LoginAs(SuperUser, Password);

    /// <summary>Where the server listens and who logs in: what a connection string to it starts with.</summary>
    internal ReferenceExpression LoginAs(string user, ParameterResource password) => ReferenceExpression.Create(
        $"Host={Endpoint.Property(EndpointProperty.Host)};Port={Endpoint.Property(EndpointProperty.Port)};Username={user};Password={password}");

    /// <summary>The user the server and initdb run as: none to change to unless the AppHost is root.</summary>
    internal static IEnumerable<string> DropPrivileges =>
        Environment.IsPrivilegedProcess ? [$"--reuid={SuperUser}", $"--regid={SuperUser}", "--init-groups"] : [];
}

/// <summary>
/// A database on a <see cref="PostgresServerResource"/>, created once the server is ready and owned by a login role of
/// its own: services connect as that role, which may change its database and nothing else — it is no superuser, and
/// cannot make roles or databases.
/// </summary>
public sealed class PostgresDatabaseResource(string name, string databaseName, PostgresServerResource server, ParameterResource ownerPassword)
    : Resource(name), IResourceWithParent<PostgresServerResource>, IResourceWithConnectionString
{
    public string DatabaseName { get; } = databaseName;

    /// <summary>The login role that owns the database; named after it.</summary>
    public string Owner => DatabaseName;

    public ParameterResource OwnerPassword { get; } = ownerPassword;

    /// <summary>
    /// Extensions the superuser creates in the database: the owner role may create only trusted ones, and migrations
    /// then find these already there.
    /// </summary>
    public List<string> Extensions { get; } = [];

    /// <summary>
    /// The most connections one pool of one process opens (a service has two: EF Core's and the raw data source's).
    /// Requests beyond it wait a moment for a pooled connection instead of the server refusing a new one.
    /// </summary>
    public const int MaxPoolSize = 40;

    public PostgresServerResource Parent { get; } = server;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"{Parent.LoginAs(Owner, OwnerPassword)};Database={DatabaseName};Maximum Pool Size={MaxPoolSize.ToString(CultureInfo.InvariantCulture)}");
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
        var server = new PostgresServerResource(name, data, password.Resource);
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
                             "-D", server.DataPath, "-p", $"{port}", "-h", "127.0.0.1", "-c", "unix_socket_directories=",
                             "-c", $"max_connections={PostgresServerResource.MaxConnections}",
                             .. PostgresTuning.Arguments(PostgresTuning.MachineBytes)])
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
        var data = server.Resource.Data;
        var ownerPassword = server.ApplicationBuilder.AddParameter($"{name}-owner-password", () => data.Secret($"{name}-owner-password"), secret: true);
        var database = new PostgresDatabaseResource(name, name, server.Resource, ownerPassword.Resource);
        return server.ApplicationBuilder.AddResource(database)
            .MadeWhenReady(server.Resource, "PostgresDatabase", cancellationToken => CreateAsync(database, cancellationToken))
            .WithIconName("Database");
    }

    /// <summary>An untrusted extension made in the database by the superuser, from the Debian package <paramref name="package"/>.</summary>
    public static IResourceBuilder<PostgresDatabaseResource> WithExtension(
        this IResourceBuilder<PostgresDatabaseResource> database, string extension, SystemRequirement package)
    {
        database.Resource.Extensions.Add(extension);
        database.ApplicationBuilder.CreateResourceBuilder(database.Resource.Parent).WithSystemPackages(package);
        return database;
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

    /// <summary>
    /// Makes the owner role and the database, or brings them up to date: the role's password from the data directory,
    /// a database made before it had an owner of its own handed over to it with everything in it, and its extensions.
    /// </summary>
    private static async Task CreateAsync(PostgresDatabaseResource database, CancellationToken cancellationToken)
    {
        var superUser = await ((IResourceWithConnectionString)database.Parent).GetConnectionStringAsync(cancellationToken) + ";Pooling=false";
        var ownerPassword = await database.OwnerPassword.GetValueAsync(cancellationToken);
        await using (var server = new NpgsqlConnection(superUser + ";Database=postgres"))
        {
            await server.OpenAsync(cancellationToken);
            var role = QuoteIdentifier(database.Owner);
            var roleExists = await ScalarAsync(server, "SELECT 1 FROM pg_roles WHERE rolname = $1", database.Owner, cancellationToken) is not null;
            // A password cannot be a parameter of CREATE/ALTER ROLE; it is hex from the data directory's secrets.
            await ExecuteAsync(server, $"{(roleExists ? "ALTER" : "CREATE")} ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '{ownerPassword}'", cancellationToken);
            var exists = await ScalarAsync(server, "SELECT 1 FROM pg_database WHERE datname = $1", database.DatabaseName, cancellationToken) is not null;
            await ExecuteAsync(server, exists
                ? $"ALTER DATABASE {QuoteIdentifier(database.DatabaseName)} OWNER TO {role}"
                : $"CREATE DATABASE {QuoteIdentifier(database.DatabaseName)} OWNER {role}", cancellationToken);
        }

        await using var inDatabase = new NpgsqlConnection(superUser + $";Database={database.DatabaseName}");
        await inDatabase.OpenAsync(cancellationToken);
        foreach (var extension in database.Extensions)
        {
            await ExecuteAsync(inDatabase, $"CREATE EXTENSION IF NOT EXISTS {QuoteIdentifier(extension)}", cancellationToken);
        }

        await ExecuteAsync(inDatabase, HandOverTablesSql(database.Owner), cancellationToken);
    }

    /// <summary>
    /// Gives <paramref name="owner"/> the tables, views and free-standing sequences of the public schema (a table's own
    /// sequences and indexes follow it). REASSIGN OWNED cannot: the superuser also owns the system's objects.
    /// </summary>
    private static string HandOverTablesSql(string owner) => $$"""
        DO $$
        DECLARE item record;
        BEGIN
            FOR item IN
                SELECT c.relname, CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END AS kind
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND c.relowner <> '{{owner}}'::regrole
                  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
            LOOP
                EXECUTE format('ALTER %s public.%I OWNER TO %I', item.kind, item.relname, '{{owner}}');
            END LOOP;
        END $$
        """;

    private static string QuoteIdentifier(string name) => $"\"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql, string parameter, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = parameter } } };
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
