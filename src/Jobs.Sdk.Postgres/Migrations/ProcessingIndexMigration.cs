namespace Jobs.Sdk.Postgres;

/// <summary>
/// Migration 0018 (issue 16): processing rows get an index of their own, <c>jobs_processing_idx (queue_name,
/// concurrency_key, key_seq, updated_at) WHERE state = 1</c>, and leave <c>jobs_concurrency_key_idx</c> (now
/// <c>WHERE concurrency_key IS NOT NULL AND state IN (0, 2, 6)</c>) and <c>jobs_queue_state_idx</c> (now
/// <c>WHERE state NOT IN (0, 1, 2)</c>). A claim rewrites each row it takes, and the new version enters every index whose
/// predicate it matches: a claimed keyed row entered the key index once more and the state index, one entry more than an
/// unkeyed claim (the 1,000-key drain ran at 0.82x of the unkeyed one). Now every claimed row enters the primary key and
/// the processing index only. A key's line is read from both indexes (<see cref="ConcurrencyKeySql.LineCount"/>); lease
/// rescue, the global-concurrency count, counts by name, cleanup and the admin list of processing jobs read the processing
/// index by its <c>queue_name</c> prefix. Appended to <see cref="MigrationScripts.All"/>; never edit it once shipped.
/// </summary>
/// <remarks>
/// Runs outside a transaction (<c>-- jobs:no-transaction</c>, <see cref="NoTransactionStep"/>): each index is built with
/// <c>CREATE INDEX CONCURRENTLY</c> and dropped with <c>DROP INDEX CONCURRENTLY</c>, which block no push, claim or outcome
/// (they wait for older transactions instead, without a lock timeout). The narrowed indexes are built under a temporary
/// name, the old ones dropped, the new ones renamed to the old names (<c>jobs doctor</c> and tools find indexes by name).
/// Every statement can run again after a failure part-way: an index build that failed leaves an invalid index, which the
/// step drops before building it again; a drop or rename of an index already gone does nothing. A rerun after the key
/// index was renamed builds it once more (its temporary name is free again) and swaps it in again: work, not harm.
/// <para>
/// No <c>-- jobs:compatible-from</c>: older code refuses to start against this schema. Its keyed push and gate name
/// <c>state IN (0, 1, 2, 6)</c>, which no index serves after this migration: a sequential scan of the table per key (a
/// keyed batch of 5,000 jobs passed the 30 s command timeout). Older processes already running keep running on it, with
/// that cost on keyed queues: stop them before, or right after, this migration.
/// </para>
/// </remarks>
internal static class ProcessingIndexMigration
{
    // The number is provisional (branch keymig): the lead renumbers on merge, after the other branches' migrations.
    public const string Name = "0018_processing_index";

    public const string Sql = """
        -- jobs:no-transaction
        CREATE INDEX CONCURRENTLY IF NOT EXISTS jobs_processing_idx ON {s}.jobs (queue_name, concurrency_key, key_seq, updated_at)
            WHERE state = 1;
        CREATE INDEX CONCURRENTLY IF NOT EXISTS jobs_concurrency_key_idx_0018 ON {s}.jobs (queue_name, concurrency_key, key_seq)
            WHERE concurrency_key IS NOT NULL AND state IN (0, 2, 6);
        DROP INDEX CONCURRENTLY IF EXISTS {s}.jobs_concurrency_key_idx;
        ALTER INDEX IF EXISTS {s}.jobs_concurrency_key_idx_0018 RENAME TO jobs_concurrency_key_idx;
        CREATE INDEX CONCURRENTLY IF NOT EXISTS jobs_queue_state_idx_0018 ON {s}.jobs (queue_name, state, updated_at)
            WHERE state NOT IN (0, 1, 2);
        DROP INDEX CONCURRENTLY IF EXISTS {s}.jobs_queue_state_idx;
        ALTER INDEX IF EXISTS {s}.jobs_queue_state_idx_0018 RENAME TO jobs_queue_state_idx;
        """;
}
