using System.Globalization;
using Jobs.Sdk.Postgres;
using Npgsql;

namespace Jobs.Sdk.Cli;

/// <summary>The checks of <c>jobs doctor</c>, each turned into a plain verdict and what to do about it.</summary>
internal static class Doctor
{
    public static async Task<List<DoctorFinding>> RunAsync(CliContext ctx, TimeSpan longTransaction, CancellationToken ct)
    {
        var findings = new List<DoctorFinding>();
        var schemaOk = await DoctorCheck.RunAsync(ctx, findings, (c, f) => SchemaAsync(c, ctx, f, ct), ct).ConfigureAwait(false);
        if (schemaOk)
        {
            await DoctorCheck.RunAsync(ctx, findings, (c, f) => IndexCheck.RunAsync(c, ctx, f, ct), ct).ConfigureAwait(false);
            await DoctorCheck.RunAsync(ctx, findings, (c, f) => BloatCheck.RunAsync(c, ctx, f, ct), ct).ConfigureAwait(false);
        }

        await DoctorCheck.RunAsync(ctx, findings, (c, f) => OldestTransactionAsync(c, longTransaction, f, ct), ct).ConfigureAwait(false);
        if (schemaOk)
        {
            await DoctorCheck.RunAsync(ctx, findings, (c, f) => LeasesAsync(c, ctx, f, ct), ct).ConfigureAwait(false);
            await DoctorCheck.RunAsync(ctx, findings, (c, f) => UnhandledAsync(c, ctx, f, ct), ct).ConfigureAwait(false);
            await SchedulePausesAsync(ctx, findings).ConfigureAwait(false);
        }

        await DoctorCheck.RunAsync(ctx, findings, (c, f) => NotifyQueueAsync(c, f, ct), ct).ConfigureAwait(false);
        return findings;
    }

    private static async Task<bool> SchemaAsync(NpgsqlConnection connection, CliContext ctx, List<DoctorFinding> findings, CancellationToken ct)
    {
        const string check = "schema version";
        var known = PostgresJobMigrations.GetMigrations(ctx.Schema);
        await using (var exists = new NpgsqlCommand(DoctorSql.MigrationsTableExists, connection))
        {
            exists.Parameters.AddWithValue(ctx.Schema);
            if (!(bool)(await exists.ExecuteScalarAsync(ct).ConfigureAwait(false))!)
            {
                findings.Add(new(check, Verdict.Problem, $"schema '{ctx.Schema}' has no job tables (no migrations applied).",
                    $"Run `jobs migrate --schema {ctx.Schema}` (or `jobs migrate --script` and give the SQL to your DBA), or pass the right --schema."));
                return false;
            }
        }

        var applied = new List<(int Version, string Name, int? CompatibleFrom)>();
        await using (var cmd = new NpgsqlCommand(Sub(DoctorSql.Applied, ctx), connection))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                applied.Add((reader.GetInt32(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt32(2)));
            }
        }

        // The first recorded migration that is not this tool's under its number: edited by hand, or another build's migrations
        // (upgrading would not help). Only past the end of the tool's list is it a newer version's migration.
        var differs = Enumerable.Range(0, Math.Min(applied.Count, known.Count))
            .FirstOrDefault(i => applied[i].Version != known[i].Version || applied[i].Name != known[i].Name, -1);
        if (differs >= 0)
        {
            findings.Add(new(check, Verdict.Problem,
                $"the recorded migrations differ from this tool's: the database has {applied[differs].Version}:{applied[differs].Name} where this tool has " +
                $"{known[differs].Version}:{known[differs].Name} (edited by hand, or migrated by a build with other migrations).",
                $"Compare {ctx.QuotedSchema}.schema_migrations with `jobs migrate --script`: restore rows edited by hand, or use the jobs tool and " +
                "applications of the build that migrated the database. Workers of this version refuse to start on it."));
            return false;
        }

        if (applied.Count > known.Count)
        {
            // A newer version migrated the schema. During a rolling deploy its migrations declare this version's code
            // compatible (compatible_from), as the driver checks: then this tool and this version's workers run against it.
            var newer = applied.Skip(known.Count).ToArray();
            var names = string.Join(", ", newer.Select(a => a.Name));
            if (newer.All(a => (a.CompatibleFrom ?? a.Version) <= known.Count))
            {
                findings.Add(new(check, Verdict.Warning,
                    $"migrated by a newer Jobs.Sdk ({names}), which declares this version compatible: this tool and this version's workers run against it.",
                    "Finish the rollout, then upgrade the jobs tool (dotnet tool update -g Jobs.Sdk.Cli) to check what the newer version added."));
                return true;
            }

            findings.Add(new(check, Verdict.Problem,
                $"the database has migrations this tool does not know ({names}); it was migrated by a newer Jobs.Sdk that this version cannot run against.",
                "Upgrade the jobs tool (dotnet tool update -g Jobs.Sdk.Cli) and the applications to the version that migrated the database."));
            return false;
        }

        if (applied.Count < known.Count)
        {
            findings.Add(new(check, Verdict.Problem,
                $"version {applied.Count} of {known.Count}; pending: {string.Join(", ", known.Skip(applied.Count).Select(m => m.Name))}.",
                "Run `jobs migrate` (workers with MigrateOnStartup=true also apply them at start)."));
            return applied.Count > 0;
        }

        findings.Add(new(check, Verdict.Ok, $"version {applied.Count} ({applied[^1].Name}), up to date with this tool."));
        return true;
    }

    private static async Task OldestTransactionAsync(NpgsqlConnection connection, TimeSpan threshold, List<DoctorFinding> findings, CancellationToken ct)
    {
        const string check = "oldest transaction";
        await using var cmd = new NpgsqlCommand(DoctorSql.OldestTransaction, connection);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            findings.Add(new(check, Verdict.Ok, "no other open transaction holds back vacuum."));
            return;
        }

        var pid = reader.GetInt32(0);
        var age = TimeSpan.FromSeconds(reader.GetDouble(1));
        var detail = $"pid {pid} ({reader.GetString(3)}, {reader.GetString(2)}) has been open for {Table.Age(age)}: {reader.GetString(4)}";
        findings.Add(age >= threshold
            ? new(check, Verdict.Problem, detail + "; dead job rows cannot be vacuumed while it runs, so the table and its indexes grow.",
                $"Finish or stop it: SELECT pg_terminate_backend({pid}); and set idle_in_transaction_session_timeout to catch it next time.")
            : new(check, Verdict.Ok, detail + $" (under {Table.Age(threshold)})."));
    }

    private static async Task LeasesAsync(NpgsqlConnection connection, CliContext ctx, List<DoctorFinding> findings, CancellationToken ct)
    {
        const string check = "expired leases";
        var rows = new List<(string Queue, long Count)>();
        await using (var cmd = new NpgsqlCommand(Sub(DoctorSql.ExpiredLeases, ctx), connection))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                rows.Add((reader.GetString(0), reader.GetInt64(1)));
            }
        }

        findings.Add(rows.Count == 0
            ? new(check, Verdict.Ok, "no processing job has a lease expired for more than a minute.")
            : new(check, Verdict.Problem,
                $"processing jobs whose worker stopped renewing more than a minute ago: {string.Join(", ", rows.Select(r => $"{r.Queue}: {r.Count}"))}.",
                "Start a worker for those queues: workers rescue expired leases (every RescueInterval). If workers run, check their logs for 'Rescuing expired job leases failed'."));
    }

    private static async Task UnhandledAsync(NpgsqlConnection connection, CliContext ctx, List<DoctorFinding> findings, CancellationToken ct)
    {
        const string check = "unhandled jobs";
        long live;
        await using (var count = new NpgsqlCommand(Sub(DoctorSql.LiveWorkers, ctx), connection))
        {
            live = (long)(await count.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        }

        var rows = new List<(string Queue, string Name, long Count, bool AtLeast)>();
        await using (var cmd = new NpgsqlCommand(Sub(DoctorSql.Unhandled, ctx), connection))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                rows.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetBoolean(3)));
            }
        }

        if (rows.Count == 0)
        {
            findings.Add(new(check, Verdict.Ok, $"every due job has a live worker with its handler ({live} live worker(s))."));
            return;
        }

        // "+": the check read only the longest-due window of a queue's due jobs (DoctorSql.UnhandledWindow), which this count filled.
        var list = string.Join(", ", rows.Select(r => $"{r.Queue}/{r.Name}: {r.Count}{(r.AtLeast ? "+" : "")}"));
        findings.Add(live == 0
            ? new(check, Verdict.Problem, $"due jobs are waiting and no worker is alive: {list}.",
                "Start the worker processes (AddWorkers). Workers report themselves every third of their lease duration.")
            : new(check, Verdict.Problem, $"due jobs wait for a name no live worker handles: {list}.",
                "Deploy a worker that registers a handler for those names (AddJob / AddGeneratedJobs) on those queues, or delete the jobs (`jobs delete --name ...`)."));
    }

    private static async Task SchedulePausesAsync(CliContext ctx, List<DoctorFinding> findings)
    {
        const string check = "schedule pauses";
        var left = SchedulePauseLeftBehind.Find(await ctx.Admin.GetSchedulesAsync(ctx.Cancellation).ConfigureAwait(false));
        findings.Add(left.Count == 0
            ? new(check, Verdict.Ok, "no paused schedule entry was left behind by a schedule edit.")
            : new(check, Verdict.Warning, string.Join(" ", left.Select(PausesLeftBehind.Describe)),
                "Pass key: to an entry whose schedule you edit (its pause and history then stay with it); see `jobs schedules`."));
    }

    private static async Task NotifyQueueAsync(NpgsqlConnection connection, List<DoctorFinding> findings, CancellationToken ct)
    {
        const string check = "LISTEN/NOTIFY queue";
        await using var cmd = new NpgsqlCommand(DoctorSql.NotificationQueueUsage, connection);
        var usage = (double)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        var detail = string.Create(CultureInfo.InvariantCulture, $"{usage:P1} of the server's notification queue is used.");
        findings.Add(usage >= 0.5
            ? new(check, Verdict.Problem, detail + " When it fills, every NOTIFY (every push) fails.",
                "A listening session is not consuming notifications: find it (pg_stat_activity, often 'idle in transaction' after LISTEN) and end it.")
            : usage >= 0.1
                ? new(check, Verdict.Warning, detail, "Watch it: a listener that stops reading lets it grow until pushes fail.")
                : new(check, Verdict.Ok, detail));
    }

    private static string Sub(string sql, CliContext ctx) => sql.Replace("{s}", ctx.QuotedSchema, StringComparison.Ordinal);
}
