using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Testcontainers.PostgreSql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// One PostgreSQL server for the whole test run, from (in order) env <c>JOBS_TEST_POSTGRES</c>, Testcontainers when a
/// Docker engine answers, or a throwaway local cluster built from the PostgreSQL binaries on the machine. Throws (never
/// skips) when none can be had.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgreSqlContainer? _container;

    public string ConnectionString { get; private set; } = "";

    /// <summary>The local cluster this fixture owns (null with JOBS_TEST_POSTGRES or a container).</summary>
    public LocalPostgresCluster? Cluster { get; private set; }

    public string Source { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var fromEnv = Environment.GetEnvironmentVariable("JOBS_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            ConnectionString = fromEnv;
            Source = "JOBS_TEST_POSTGRES";
        }
        else if (await TryStartContainerAsync())
        {
            Source = "Testcontainers";
        }
        else
        {
            try
            {
                Cluster = await LocalPostgresCluster.StartAsync();
            }
            catch (Exception ex)
            {
                throw new InvalidOperationException(
                    "No PostgreSQL for the Jobs.Sdk.Postgres tests: JOBS_TEST_POSTGRES is not set, no Docker engine answers, and starting a local " +
                    "cluster from /usr/lib/postgresql/*/bin failed. Set JOBS_TEST_POSTGRES to a connection string.", ex);
            }

            ConnectionString = Cluster.ConnectionString;
            Source = "local cluster";
        }

        // Fail loudly now if the server does not answer.
        await using var dataSource = CreateDataSource();
        await using var command = dataSource.CreateCommand("SELECT 1");
        await command.ExecuteScalarAsync();
    }

    /// <summary>
    /// Where the server log ends now, for <see cref="AssertNoDeadlocksSince"/>; <see langword="null"/> when the server is not
    /// a local cluster of this fixture (JOBS_TEST_POSTGRES, Testcontainers) and its log cannot be read.
    /// </summary>
    public long? ServerLogPosition() => Cluster?.LogLength();

    /// <summary>
    /// Fails when the server log written since <paramref name="position"/> (from <see cref="ServerLogPosition"/>) reports a
    /// deadlock (SQLSTATE 40P01, "deadlock detected"). Does nothing when the log cannot be read (position null).
    /// </summary>
    public void AssertNoDeadlocksSince(long? position)
    {
        if (Cluster is not null && position is { } from)
        {
            LocalPostgresCluster.AssertNoDeadlocks(Cluster.ReadLogSince(from));
        }
    }

    public NpgsqlDataSource CreateDataSource(Action<NpgsqlConnectionStringBuilder>? configure = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        configure?.Invoke(builder);
        return PostgresJobsBuilderExtensions.CreateDataSource(builder.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }

        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }

    private async Task<bool> TryStartContainerAsync()
    {
        var dockerHost = Environment.GetEnvironmentVariable("DOCKER_HOST");
        if (string.IsNullOrEmpty(dockerHost) && !File.Exists("/var/run/docker.sock"))
        {
            return false;
        }

        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            _container = new PostgreSqlBuilder("postgres:16-alpine").Build();
            await _container.StartAsync(cts.Token);
            ConnectionString = _container.GetConnectionString();
            return true;
        }
        catch (Exception)
        {
            if (_container is not null)
            {
                await _container.DisposeAsync().AsTask().ContinueWith(_ => { }, TaskScheduler.Default);
                _container = null;
            }

            return false;
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "Postgres";
}

/// <summary>A throwaway PostgreSQL cluster (initdb + pg_ctl) on 127.0.0.1 and a free port, trust auth.</summary>
public sealed class LocalPostgresCluster : IAsyncDisposable
{
    private readonly string _binDir;
    private readonly string _root;
    private readonly string _dataDir;

    private LocalPostgresCluster(string binDir, string root, int port)
    {
        _binDir = binDir;
        _root = root;
        _dataDir = Path.Combine(root, "data");
        Port = port;
    }

    public int Port { get; }

    /// <summary>The server log (stderr of the postmaster, appended across restarts). Each line starts with time, pid and SQLSTATE.</summary>
    public string LogPath => Path.Combine(_root, "log");

    /// <summary>The length of the server log now (a position for <see cref="ReadLogSince"/>).</summary>
    public long LogLength() => File.Exists(LogPath) ? new FileInfo(LogPath).Length : 0;

    /// <summary>The server log from <paramref name="position"/> to its current end.</summary>
    public string ReadLogSince(long position)
    {
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        stream.Seek(Math.Min(position, stream.Length), SeekOrigin.Begin);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Fails with the offending lines when <paramref name="log"/> reports a deadlock (40P01).</summary>
    public static void AssertNoDeadlocks(string log)
    {
        var deadlocks = log.Split('\n').Where(l => l.Contains("40P01", StringComparison.Ordinal) || l.Contains("deadlock detected", StringComparison.Ordinal)).ToArray();
        Assert.True(deadlocks.Length == 0, "The server log reports deadlocks (40P01):\n" + string.Join('\n', deadlocks.Take(20)));
    }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Maximum Pool Size=60;Timeout=10";

    public static async Task<LocalPostgresCluster> StartAsync()
    {
        var binDir = FindBinDir() ?? throw new InvalidOperationException("No PostgreSQL binaries (initdb) under /usr/lib/postgresql/*/bin.");
        var root = Path.Combine(Path.GetTempPath(), "jobs-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        var cluster = new LocalPostgresCluster(binDir, root, FreePort());
        if (IsRoot)
        {
            await RunAsync("chown", $"postgres \"{root}\"", asPostgres: false);
        }

        await cluster.PgAsync("initdb", $"-D \"{cluster._dataDir}\" -A trust -U postgres --no-sync -E UTF8");
        await cluster.PgCtlAsync("start");
        return cluster;
    }

    /// <summary>Restarts the server (fast shutdown: connections are dropped).</summary>
    public Task RestartAsync() => PgCtlAsync("restart -m fast");

    /// <summary>
    /// A hot standby of this cluster on a port of its own: a base backup (<c>pg_basebackup -R</c>: it streams from this
    /// cluster's WAL from then on), started. Dispose it as any cluster.
    /// </summary>
    public async Task<LocalPostgresCluster> StartStandbyAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), "jobs-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        var standby = new LocalPostgresCluster(_binDir, root, FreePort());
        try
        {
            if (IsRoot)
            {
                await RunAsync("chown", $"postgres \"{root}\"", asPostgres: false);
            }

            await PgAsync("pg_basebackup", $"-h 127.0.0.1 -p {Port} -U postgres -D \"{standby._dataDir}\" -R -X stream --no-sync");
            await standby.PgCtlAsync("start");
            return standby;
        }
        catch (Exception)
        {
            await standby.DisposeAsync();
            throw;
        }
    }

    /// <summary>Promotes this standby to a primary, and waits until it accepts writes.</summary>
    public Task PromoteAsync() => PgAsync("pg_ctl", $"-D \"{_dataDir}\" -w -t 60 promote");

    /// <summary>Stops the server: <c>fast</c> (its sessions end, its standbys get all of its WAL first) or <c>immediate</c> (a crash).</summary>
    public Task StopAsync(string mode) => PgAsync("pg_ctl", $"-D \"{_dataDir}\" -w -t 60 stop -m {mode}");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await PgAsync("pg_ctl", $"-D \"{_dataDir}\" stop -m immediate");
        }
        catch (Exception)
        {
        }

        try
        {
            // JOBS_TEST_POSTGRES_LOG=<file>: keep the server log of the run (to look for deadlocks, 40P01, or other ERROR lines).
            if (Environment.GetEnvironmentVariable("JOBS_TEST_POSTGRES_LOG") is { Length: > 0 } keep)
            {
                File.Copy(LogPath, keep, overwrite: true);
            }
        }
        catch (Exception)
        {
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception)
        {
        }
    }

    private Task PgCtlAsync(string verb)
    {
        var options = $"-p {Port} -k {_root} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c log_line_prefix=%m:[%p]:%e: -c log_min_messages=warning -c log_min_error_statement=error";
        return PgAsync("pg_ctl", $"-D \"{_dataDir}\" -o \"{options}\" -l \"{LogPath}\" -w -t 60 {verb}");
    }

    private Task PgAsync(string tool, string arguments) => RunAsync(Path.Combine(_binDir, tool), arguments, asPostgres: IsRoot);

    private static bool IsRoot => Environment.UserName == "root";

    private static string? FindBinDir()
    {
        if (!Directory.Exists("/usr/lib/postgresql"))
        {
            return null;
        }

        return Directory.GetDirectories("/usr/lib/postgresql")
            .Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "initdb")))
            .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
            .FirstOrDefault();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string file, string arguments, bool asPostgres)
    {
        var info = asPostgres
            ? new ProcessStartInfo("runuser", $"-u postgres -- {file} {arguments}")
            : new ProcessStartInfo(file, arguments);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.WorkingDirectory = "/tmp";
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Cannot start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {arguments} exited with {process.ExitCode}: {await stderr} {await stdout}");
        }
    }
}
