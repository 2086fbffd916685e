using Npgsql;

namespace Heimdex.AppHost.Hosting;

/// <summary>PostgreSQL from the system packages, on its own data directory, listening on loopback only.</summary>
public sealed class PostgresResource(string name) : Resource(name)
{
    private const string SuperUser = "postgres";
    private readonly List<PostgresDatabase> _databases = [];

    public IReadOnlyList<PostgresDatabase> Databases => _databases;
    private string _password = "";
    private int _port;

    public override IEnumerable<SystemRequirement> Requirements => [SystemRequirement.Postgres, SystemRequirement.InitDb];

    // SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to disconnect.
    public override int StopSignal => ChildProcess.SigInt;

    public override IReadOnlyList<ResourceEndpoint> Endpoints =>
        [new(Name, $"postgresql://127.0.0.1:{_port} (databases: {string.Join(", ", _databases.Select(d => d.DatabaseName))})")];

    public PostgresDatabase AddDatabase(string name)
    {
        var database = new PostgresDatabase(this, name);
        _databases.Add(database);
        return database;
    }

    internal string ConnectionStringFor(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = _port,
        Username = SuperUser,
        Password = _password,
        Database = database,
    }.ConnectionString;

    public override async Task<ProcessSpec> PrepareAsync(HostContext context, CancellationToken cancellationToken)
    {
        var dataDirectory = Path.Combine(context.DataDirectory, Name);
        var runAs = HostContext.IsRoot ? SuperUser : null;
        _password = context.Secret($"{Name}-password");
        _port = HostContext.FreePort();
        if (!File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            await InitializeAsync(context, dataDirectory, runAs, cancellationToken);
        }

        return new ProcessSpec(
            SystemPackages.Resolve(SystemRequirement.Postgres),
            ["-D", dataDirectory, "-p", $"{_port}", "-h", "127.0.0.1", "-c", "unix_socket_directories="],
            new Dictionary<string, string>(),
            dataDirectory,
            runAs);
    }

    private async Task InitializeAsync(HostContext context, string dataDirectory, string? runAs, CancellationToken cancellationToken)
    {
        if (Directory.Exists(dataDirectory))
        {
            Directory.Delete(dataDirectory, recursive: true); // a half-made cluster from an interrupted first run
        }

        Directory.CreateDirectory(dataDirectory);
        var passwordFile = Path.Combine(context.DataDirectory, $"{Name}-initdb.pw");
        HostContext.WritePrivateFile(passwordFile, _password);
        try
        {
            if (runAs is not null)
            {
                GrantTraversal(dataDirectory, runAs);
                await ChownAsync(runAs, cancellationToken, dataDirectory, passwordFile);
            }

            var (exitCode, output) = await ChildProcess.RunAsync(
                new ProcessSpec(
                    SystemPackages.Resolve(SystemRequirement.InitDb),
                    ["-D", dataDirectory, "-U", SuperUser, "-E", "UTF8", "--locale=C.UTF-8",
                     "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", $"--pwfile={passwordFile}"],
                    new Dictionary<string, string>(),
                    context.DataDirectory,
                    runAs),
                _ => { },
                cancellationToken);
            if (exitCode != 0)
            {
                throw new HostingException($"initdb failed for {dataDirectory}:\n  {string.Join("\n  ", output)}");
            }
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    /// <summary>The server user must be able to reach its data directory through every parent folder.</summary>
    private static void GrantTraversal(string dataDirectory, string user)
    {
        for (var dir = Directory.GetParent(dataDirectory); dir is not null; dir = dir.Parent)
        {
            var mode = File.GetUnixFileMode(dir.FullName);
            if (!mode.HasFlag(UnixFileMode.OtherExecute))
            {
                File.SetUnixFileMode(dir.FullName, mode | UnixFileMode.OtherExecute);
                Console.WriteLine($"note: allowed others to pass through {dir.FullName} (o+x) so the '{user}' user can reach the database files");
            }
        }
    }

    private static async Task ChownAsync(string user, CancellationToken cancellationToken, params string[] paths)
    {
        var (exitCode, output) = await ChildProcess.RunAsync(
            new ProcessSpec("chown", ["-R", $"{user}:{user}", .. paths], new Dictionary<string, string>(), "/"),
            _ => { }, cancellationToken);
        if (exitCode != 0)
        {
            throw new HostingException($"chown to '{user}' failed: {string.Join(' ', output)}");
        }
    }

    public override async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionStringFor(SuperUser) + ";Timeout=2;Pooling=false");
            await connection.OpenAsync(cancellationToken);
            return true;
        }
        catch (Exception error) when (error is NpgsqlException or TimeoutException)
        {
            return false;
        }
    }

    public override async Task OnHealthyAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(ConnectionStringFor(SuperUser) + ";Pooling=false");
        await connection.OpenAsync(cancellationToken);
        foreach (var database in _databases)
        {
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
}

/// <summary>A database inside a <see cref="PostgresResource"/>; referencing it hands over a connection string to it.</summary>
public sealed class PostgresDatabase(PostgresResource server, string databaseName) : IResourceWithConnectionString
{
    public string DatabaseName { get; } = databaseName;

    public string ConnectionName => DatabaseName;

    public Resource Owner => server;

    public string ConnectionString => server.ConnectionStringFor(DatabaseName);
}
