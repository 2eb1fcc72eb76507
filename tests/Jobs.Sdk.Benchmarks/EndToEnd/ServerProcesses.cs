using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace Jobs.Sdk.Benchmarks.EndToEnd;

/// <summary>
/// <c>--explain</c>'s split of the server CPU of a measured window per PostgreSQL process: user + system ticks of every
/// child of the postmaster from <c>/proc/&lt;pid&gt;/stat</c> at both ends, the postmaster itself, and the children that
/// exited and were reaped in between (the postmaster's <c>cutime</c>/<c>cstime</c>). Each pid is labelled from
/// <c>pg_stat_activity</c> (backend type; for client backends the application name and the last statement, and whether it
/// is the meter's own connection). /proc counts in 10 ms ticks: per-process rows of a short window are coarse.
/// </summary>
internal static partial class ServerProcesses
{
    public sealed record Snapshot(Dictionary<int, long> Ticks, long PostmasterOwn, long Reaped, Dictionary<int, string> Labels, long User, long System);

    public static async Task<Snapshot?> TakeAsync(NpgsqlDataSource ds, int? postmaster)
    {
        if (postmaster is not { } pm)
        {
            return null;
        }

        var labels = new Dictionary<int, string>();
        await using (var cmd = ds.CreateCommand("""
            SELECT pid, coalesce(backend_type, ''), coalesce(application_name, ''), coalesce(state, ''), coalesce(query, ''), pid = pg_backend_pid()
            FROM pg_stat_activity
            """))
        {
            await using var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                labels[reader.GetInt32(0)] = Label(reader.GetString(1), reader.GetString(2), reader.GetString(4), reader.GetBoolean(5));
            }
        }

        var ticks = new Dictionary<int, long>();
        long own = 0, reaped = 0, user = 0, system = 0;
        foreach (var p in ProcStat.All())
        {
            if (p.Pid == pm)
            {
                own = p.User + p.System;
                reaped = p.ChildrenUser + p.ChildrenSystem;
                user += p.User + p.ChildrenUser;
                system += p.System + p.ChildrenSystem;
            }
            else if (p.ParentPid == pm)
            {
                ticks[p.Pid] = p.User + p.System;
                user += p.User;
                system += p.System;
                labels.TryAdd(p.Pid, "process: " + p.Command);
            }
        }

        return new Snapshot(ticks, own, reaped, labels, user, system);
    }

    private static string Label(string backendType, string app, string query, bool self)
    {
        if (backendType != "client backend")
        {
            return backendType;
        }

        if (self)
        {
            return "client: the meter's own connection";
        }

        var q = Spaces().Replace(query, " ").Trim();
        var kind = q switch
        {
            _ when q.StartsWith("LISTEN", StringComparison.OrdinalIgnoreCase) || q.Contains("pg_notification", StringComparison.OrdinalIgnoreCase) => "listener",
            _ when q.Contains("SKIP LOCKED", StringComparison.OrdinalIgnoreCase) => "claim",
            _ when q.StartsWith("DELETE", StringComparison.OrdinalIgnoreCase) || q.Contains("DELETE FROM", StringComparison.OrdinalIgnoreCase) => "outcome/delete",
            _ when q.Contains("lease", StringComparison.OrdinalIgnoreCase) => "lease",
            _ when q.Contains("count", StringComparison.OrdinalIgnoreCase) => "counts",
            _ => "other",
        };
        return $"client {kind}{(app.Length > 0 ? $" [{app}]" : "")}: {(q.Length > 60 ? q[..60] : q)}";
    }

    /// <summary>The per-process table between two snapshots, µs of CPU per job, largest first.</summary>
    public static string Report(Snapshot? a, Snapshot? b, long jobs)
    {
        if (a is null || b is null || jobs <= 0)
        {
            return "server CPU per process: not available (server not on this machine)";
        }

        var rows = new List<(double Us, string What)>();
        double Us(long ticks) => ticks * 1e4 / jobs; // a tick is 10 ms
        foreach (var (pid, t1) in b.Ticks)
        {
            var isNew = !a.Ticks.TryGetValue(pid, out var t0);
            var d = t1 - t0;
            var label = b.Labels.GetValueOrDefault(pid) ?? a.Labels.GetValueOrDefault(pid) ?? "?";
            rows.Add((Us(d), $"{pid,7}{(isNew ? " new" : "    ")}  {label}"));
        }

        foreach (var (pid, _) in a.Ticks.Where(p => !b.Ticks.ContainsKey(p.Key)))
        {
            rows.Add((0, $"{pid,7} exited {a.Labels.GetValueOrDefault(pid) ?? "?"} (its CPU is in the reaped row)"));
        }

        rows.Add((Us(b.PostmasterOwn - a.PostmasterOwn), "postmaster itself"));
        rows.Add((Us(b.Reaped - a.Reaped), "children that exited in the window (reaped: cutime + cstime)"));
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"server CPU per process (µs/job; 1 tick = {1e4 / jobs:0.##} µs/job), total {rows.Sum(r => r.Us):0.0} (user {Us(b.User - a.User):0.0}, system {Us(b.System - a.System):0.0}):\n");
        foreach (var (us, what) in rows.Where(r => r.Us > 0 || r.What.Contains("exited", StringComparison.Ordinal)).OrderByDescending(r => r.Us))
        {
            sb.Append(CultureInfo.InvariantCulture, $"    {us,6:0.00}  {what}\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"    ({rows.Count(r => r.Us == 0 && !r.What.Contains("exited", StringComparison.Ordinal))} processes used no tick)");
        return sb.ToString();
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
