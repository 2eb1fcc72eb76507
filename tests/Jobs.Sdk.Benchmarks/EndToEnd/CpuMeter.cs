using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Jobs.Sdk.Benchmarks.EndToEnd;

/// <summary>
/// CPU time of both sides of the connection over an interval.
/// <list type="bullet">
/// <item><b>client</b>: this process's <see cref="Process.TotalProcessorTime"/> (user + system).</item>
/// <item><b>server</b>: user + system CPU of every PostgreSQL process, from <c>/proc</c>: the postmaster (with
/// <c>cutime</c>/<c>cstime</c>, which include children that exited and were reaped) plus every live child of it. Needs the
/// server on this machine and the rights to read its <c>postmaster.pid</c> (superuser: <c>pg_read_file</c>); else null.</item>
/// <item><b>server exec</b>: the sum of <c>pg_stat_statements.total_exec_time</c> (a proxy: statement execution only, no
/// parse, commit, WAL flush or protocol work); null when the extension is not installed.</item>
/// </list>
/// </summary>
internal sealed class CpuMeter
{
    private const double TicksPerSecond = 100; // USER_HZ: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK))
    private readonly NpgsqlDataSource _ds;
    private readonly int? _postmaster;

    private CpuMeter(NpgsqlDataSource ds, int? postmaster)
    {
        _ds = ds;
        _postmaster = postmaster;
    }

    /// <summary>The postmaster's pid when the server runs on this machine (for <see cref="ServerProcesses"/>).</summary>
    public int? Postmaster => _postmaster;

    public readonly record struct Sample(TimeSpan Client, double? ServerSeconds, double? ExecMs, long Timestamp);

    public static async Task<CpuMeter> CreateAsync(NpgsqlDataSource ds)
    {
        int? pid = null;
        try
        {
            await using var cmd = ds.CreateCommand("SELECT split_part(pg_read_file('postmaster.pid'), chr(10), 1)::int");
            pid = (int)(await cmd.ExecuteScalarAsync().ConfigureAwait(false))!;
            if (!File.Exists($"/proc/{pid}/stat"))
            {
                pid = null; // the server runs elsewhere (another machine or container)
            }
        }
        catch (PostgresException)
        {
        }

        return new CpuMeter(ds, pid);
    }

    public async Task<Sample> SampleAsync()
    {
        double? exec = null;
        try
        {
            await using var cmd = _ds.CreateCommand("SELECT coalesce(sum(total_exec_time), 0)::float8 FROM pg_stat_statements");
            exec = (double)(await cmd.ExecuteScalarAsync().ConfigureAwait(false))!;
        }
        catch (PostgresException)
        {
        }

        using var self = Process.GetCurrentProcess();
        return new Sample(self.TotalProcessorTime, ServerSeconds(), exec, Stopwatch.GetTimestamp());
    }

    /// <summary>Client and server CPU between two samples, per job (µs) and as a share of one core (%).</summary>
    public static string Json(Sample a, Sample b, long jobs, TimeSpan? extraClient = null)
    {
        var wall = Stopwatch.GetElapsedTime(a.Timestamp, b.Timestamp).TotalSeconds;
        var client = (b.Client - a.Client + (extraClient ?? TimeSpan.Zero)).TotalSeconds;
        var server = b.ServerSeconds - a.ServerSeconds;
        var exec = b.ExecMs - a.ExecMs;
        var perJob = jobs > 0;
        return string.Create(CultureInfo.InvariantCulture,
            $",\"client_cpu_us_per_job\":{(perJob ? Num(client * 1e6 / jobs) : "null")},\"server_cpu_us_per_job\":{(perJob ? Num(server * 1e6 / jobs) : "null")}" +
            $",\"server_exec_us_per_job\":{(perJob ? Num(exec * 1e3 / jobs) : "null")},\"client_cpu_pct\":{Num(client / wall * 100)},\"server_cpu_pct\":{Num(server / wall * 100)}" +
            $",\"server_exec_pct\":{Num(exec / 1e3 / wall * 100)}");
    }

    private static string Num(double? v) => v is { } x && double.IsFinite(x) ? Math.Round(x, 2).ToString(CultureInfo.InvariantCulture) : "null";

    private double? ServerSeconds()
    {
        if (_postmaster is not { } pm)
        {
            return null;
        }

        long ticks = 0;
        foreach (var p in ProcStat.All())
        {
            if (p.Pid == pm)
            {
                ticks += p.User + p.System + p.ChildrenUser + p.ChildrenSystem;
            }
            else if (p.ParentPid == pm)
            {
                ticks += p.User + p.System;
            }
        }

        return ticks / TicksPerSecond;
    }
}
