using System.Globalization;
using System.Text;
using Npgsql;

namespace Jobs.Sdk.Benchmarks.EndToEnd;

/// <summary>
/// <c>--explain</c>'s server profile of a drain, per drained job: each statement's execution time, buffers, WAL and rows
/// (<c>pg_stat_statements</c>, reset when the drain starts: needs superuser), the jobs table's inserts, updates (HOT or
/// not) and deletes (<c>pg_stat_user_tables</c>), and the WAL records by type (<c>pg_walinspect</c>, when installed:
/// <c>Btree/INSERT_LEAF</c> is one index entry written; <c>Heap/HOT_UPDATE</c> an update that wrote none).
/// </summary>
internal sealed class DrainProfile
{
    private readonly string _startLsn;
    private readonly TableStats _before;

    private DrainProfile(string startLsn, TableStats before)
    {
        _startLsn = startLsn;
        _before = before;
    }

    private readonly record struct TableStats(long Inserted, long Updated, long HotUpdated, long Deleted);

    public static async Task<DrainProfile> StartAsync(NpgsqlDataSource ds, string schema)
    {
        try
        {
            await using var reset = ds.CreateCommand("SELECT pg_stat_statements_reset()");
            await reset.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        catch (PostgresException)
        {
            // Not installed or not superuser: the statement profile covers more than the drain.
        }

        var before = await ReadTableAsync(ds, schema).ConfigureAwait(false);
        await using var cmd = ds.CreateCommand("SELECT pg_current_wal_insert_lsn()::text");
        return new DrainProfile((string)(await cmd.ExecuteScalarAsync().ConfigureAwait(false))!, before);
    }

    public async Task<string> ReportAsync(NpgsqlDataSource ds, string schema, int jobs)
    {
        var sb = new StringBuilder();
        await using (var lsn = ds.CreateCommand("SELECT pg_current_wal_insert_lsn()::text"))
        {
            sb.Append(CultureInfo.InvariantCulture, $"drain profile per job (WAL {_startLsn} to {await lsn.ExecuteScalarAsync().ConfigureAwait(false)}):\n");
        }

        var after = await ReadTableAsync(ds, schema).ConfigureAwait(false);
        sb.Append(CultureInfo.InvariantCulture,
            $"    jobs table: {(after.Inserted - _before.Inserted) / (double)jobs:0.###} inserted, {(after.Updated - _before.Updated) / (double)jobs:0.###} updated " +
            $"({(after.HotUpdated - _before.HotUpdated) / (double)jobs:0.###} HOT), {(after.Deleted - _before.Deleted) / (double)jobs:0.###} deleted\n");
        sb.Append("    exec_us  blks_hit+read  dirtied  wal_records  wal_bytes  rows  calls  statement\n");
        try
        {
            await using var cmd = ds.CreateCommand("""
                SELECT total_exec_time, shared_blks_hit + shared_blks_read, shared_blks_dirtied, wal_records, wal_bytes, rows, calls,
                       left(regexp_replace(query, '\s+', ' ', 'g'), 90)
                FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                ORDER BY total_exec_time DESC LIMIT 10
                """);
            await using var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                double Per(int i) => Convert.ToDouble(reader.GetValue(i), CultureInfo.InvariantCulture) / jobs;
                sb.Append(CultureInfo.InvariantCulture,
                    $"    {Per(0) * 1000,7:0.0}  {Per(1),13:0.00}  {Per(2),7:0.00}  {Per(3),11:0.00}  {Per(4),9:0}  {Per(5),4:0.00}  {reader.GetInt64(6),5}  {reader.GetString(7)}\n");
            }
        }
        catch (PostgresException ex)
        {
            sb.Append("    (pg_stat_statements: ").Append(ex.MessageText).Append(")\n");
        }

        try
        {
            await using var cmd = ds.CreateCommand("""
                SELECT "resource_manager/record_type", count, combined_size FROM pg_get_wal_stats($1::pg_lsn, pg_current_wal_insert_lsn(), true)
                WHERE count > 0 ORDER BY combined_size DESC
                """);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _startLsn });
            await using var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
            sb.Append("    WAL records per job (count, bytes):");
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                sb.Append(CultureInfo.InvariantCulture, $" {reader.GetString(0)} {reader.GetInt64(1) / (double)jobs:0.###} ({Convert.ToDouble(reader.GetValue(2), CultureInfo.InvariantCulture) / jobs:0} B);");
            }

            sb.Append('\n');
        }
        catch (PostgresException)
        {
            sb.Append("    (WAL records by type: CREATE EXTENSION pg_walinspect to see them)\n");
        }

        return sb.ToString().TrimEnd();
    }

    private static async Task<TableStats> ReadTableAsync(NpgsqlDataSource ds, string schema)
    {
        await using var cmd = ds.CreateCommand("""
            SELECT coalesce(sum(n_tup_ins), 0)::bigint, coalesce(sum(n_tup_upd), 0)::bigint, coalesce(sum(n_tup_hot_upd), 0)::bigint, coalesce(sum(n_tup_del), 0)::bigint
            FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'jobs'
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = schema });
        await using var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
        await reader.ReadAsync().ConfigureAwait(false);
        return new TableStats(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }
}
