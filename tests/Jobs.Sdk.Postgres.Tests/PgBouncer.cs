using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace Jobs.Sdk.Postgres.Tests;

/// <summary>
/// A real PgBouncer (the <c>pgbouncer</c> binary, Debian's package; <c>.ci/run</c> installs it when missing) run as a
/// child process in front of the test server: transaction pooling, trust authentication, 127.0.0.1 and a free port, a
/// small server pool (<see cref="ServerPoolSize"/>) so that many client connections share few server sessions, as in
/// production. Started per test and stopped (SIGTERM) on dispose. Throws, never skips, when PgBouncer is missing.
/// </summary>
public sealed class PgBouncer : IAsyncDisposable
{
    /// <summary>Server connections per database and user (PgBouncer's <c>default_pool_size</c>).</summary>
    public const int ServerPoolSize = 4;

    private readonly Process _process;
    private readonly string _root;
    private readonly StringBuilder _log = new();

    private PgBouncer(Process process, string root, int port, string connectionString)
    {
        _process = process;
        _root = root;
        Port = port;
        ConnectionString = connectionString;
    }

    public int Port { get; }

    /// <summary>The test server's connection string with host and port replaced by PgBouncer's.</summary>
    public string ConnectionString { get; }

    /// <summary>What PgBouncer logged so far (its stderr), for failure messages.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>The installed PgBouncer's version line (<c>pgbouncer --version</c>).</summary>
    public static string Version()
    {
        using var process = Process.Start(new ProcessStartInfo(Binary(), "--version") { RedirectStandardOutput = true })!;
        var first = process.StandardOutput.ReadLine() ?? "";
        process.WaitForExit();
        return first;
    }

    /// <summary>Starts PgBouncer in front of the server of <paramref name="serverConnectionString"/> (host, port, user).</summary>
    public static async Task<PgBouncer> StartAsync(string serverConnectionString, string poolMode = "transaction")
    {
        var server = new NpgsqlConnectionStringBuilder(serverConnectionString);
        var root = Path.Combine(Path.GetTempPath(), "jobs-pgbouncer-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        var port = FreePort();
        var user = server.Username ?? "postgres";
        File.WriteAllText(Path.Combine(root, "users.txt"), $"\"{user}\" \"\"\n");
        var ini = new StringBuilder()
            .AppendLine("[databases]")
            .AppendLine(CultureInfo.InvariantCulture, $"* = host={server.Host} port={server.Port}")
            .AppendLine("[pgbouncer]")
            .AppendLine("listen_addr = 127.0.0.1")
            .AppendLine(CultureInfo.InvariantCulture, $"listen_port = {port}")
            .AppendLine("unix_socket_dir =")
            .AppendLine("auth_type = trust")
            .AppendLine(CultureInfo.InvariantCulture, $"auth_file = {Path.Combine(root, "users.txt")}")
            .AppendLine(CultureInfo.InvariantCulture, $"pool_mode = {poolMode}")
            .AppendLine(CultureInfo.InvariantCulture, $"default_pool_size = {ServerPoolSize}")
            .AppendLine("max_client_conn = 1000")
            .AppendLine("server_reset_query = DISCARD ALL")
            .AppendLine("log_connections = 0")
            .AppendLine("log_disconnections = 0");
        if (Environment.UserName == "root")
        {
            // PgBouncer refuses to run as root; it switches to this user after reading its files.
            ini.AppendLine("user = postgres");
        }

        var iniPath = Path.Combine(root, "pgbouncer.ini");
        File.WriteAllText(iniPath, ini.ToString());
        var info = new ProcessStartInfo(Binary())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(iniPath);
        var process = Process.Start(info) ?? throw new InvalidOperationException("Cannot start pgbouncer.");
        var csb = new NpgsqlConnectionStringBuilder(serverConnectionString) { Host = "127.0.0.1", Port = port };
        var bouncer = new PgBouncer(process, root, port, csb.ConnectionString);
        process.ErrorDataReceived += (_, e) => bouncer.Append(e.Data);
        process.OutputDataReceived += (_, e) => bouncer.Append(e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            await bouncer.WaitUntilAnsweringAsync();
        }
        catch
        {
            await bouncer.DisposeAsync();
            throw;
        }

        return bouncer;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM: PgBouncer's immediate shutdown.
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (TimeoutException)
            {
                _process.Kill();
            }
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    private async Task WaitUntilAnsweringAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"pgbouncer exited with {_process.ExitCode} at start: {Log}");
            }

            try
            {
                await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync();
                return;
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    private static string Binary()
    {
        foreach (var candidate in new[] { "/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer", "/usr/local/sbin/pgbouncer" })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            "The PgBouncer tests need the pgbouncer binary, and none is installed (looked in /usr/sbin, /usr/bin, /usr/local/bin, /usr/local/sbin). " +
            "Install it: apt-get install -y pgbouncer (.ci/run does this on a fresh machine).");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
