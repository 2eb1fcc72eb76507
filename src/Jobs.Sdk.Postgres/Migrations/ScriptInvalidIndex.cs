using System.Globalization;
using System.Text;

namespace Jobs.Sdk.Postgres;

/// <summary>
/// In the DBA's script (<see cref="PostgresJobMigrations.GetScript(string)"/>), the statements before a step's
/// <c>CREATE INDEX CONCURRENTLY IF NOT EXISTS</c> that drop the index when a build that failed part-way (a cancel, a crash,
/// a duplicate for a unique index) left it invalid, as the service's own path does (<see cref="NoTransactionStep"/>):
/// <c>IF NOT EXISTS</c> took it for built, the step was recorded, and the queue read without the index while every write
/// still maintained it. A script has no condition outside a <c>DO</c> block, where <c>DROP INDEX CONCURRENTLY</c> cannot
/// run, and a plain <c>DROP INDEX</c> would take the table's ACCESS EXCLUSIVE lock (every claim and push waiting behind it):
/// so the <c>DO</c> block only renames an invalid index (which locks the index alone, not the table) to a name of the
/// step's own, and a <c>DROP INDEX CONCURRENTLY IF EXISTS</c> of that name drops it, doing nothing when no index was
/// invalid. The same drop runs first too, for an index renamed by a run of the script that stopped before its drop.
/// </summary>
internal static class ScriptInvalidIndex
{
    /// <summary>
    /// Appends to <paramref name="script"/> the statements that drop <paramref name="index"/> (as written in the step,
    /// quoted or not) of schema <paramref name="quoted"/> when it is invalid; <paramref name="version"/> and
    /// <paramref name="ordinal"/> (the build's place in its step) name the index renamed for the drop.
    /// </summary>
    public static void AppendDrop(StringBuilder script, string quoted, string index, int version, int ordinal)
    {
        var qualified = quoted + "." + index;
        var renamed = string.Create(CultureInfo.InvariantCulture, $"jobs_invalid_{version}_{ordinal}");
        var drop = $"DROP INDEX CONCURRENTLY IF EXISTS {quoted}.{renamed};";
        script.AppendLine(drop);
        script.AppendLine("DO $jobs_do$");
        script.AppendLine("BEGIN");
        script.Append("  IF (SELECT NOT i.indisvalid FROM pg_catalog.pg_index i WHERE i.indexrelid = to_regclass($jobs_sql$")
            .Append(qualified).AppendLine("$jobs_sql$)) THEN");
        script.Append("    EXECUTE $jobs_sql$ALTER INDEX ").Append(qualified).Append(" RENAME TO ").Append(renamed).AppendLine("$jobs_sql$;");
        script.AppendLine("  END IF;");
        script.AppendLine("END");
        script.AppendLine("$jobs_do$;");
        script.AppendLine(drop);
    }
}
