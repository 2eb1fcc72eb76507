using Jobs.Sdk.Drivers;
using Npgsql;

namespace Jobs.Sdk.Postgres;

// The dry run of a bulk action (jobs retry/cancel/delete/run-now/priority --dry-run, JobAdmin.PreviewAsync).
public sealed partial class PostgresJobAdminStore
{
    /// <inheritdoc />
    /// <remarks>
    /// One read-only statement (<see cref="AdminPreviewSql"/>) with the conditions and the parameters of the action's own
    /// statement (it runs on a standby too). A retry's check of unique keys sees the keys as they are now, as the retry
    /// would: a job whose released key another job holds is left out.
    /// </remarks>
    public async Task<IReadOnlyList<JobId>> PreviewAsync(JobAdminAction action, IReadOnlyList<JobId> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var sql = action.Kind switch
        {
            JobAdminActionKind.Retry => _previewRetry,
            JobAdminActionKind.Cancel => _previewCancel,
            JobAdminActionKind.Delete => _previewDelete,
            JobAdminActionKind.SetPriority => _previewSetPriority,
            JobAdminActionKind.RunNow => _previewRunNow,
            _ => throw new ArgumentOutOfRangeException(nameof(action), action.Kind, "Unknown admin action."),
        };
        if (ids.Count == 0)
        {
            return [];
        }

        var changing = new List<JobId>(ids.Count);
        return await ReadAsync<IReadOnlyList<JobId>>(async connection =>
        {
            var command = JobsStatement(connection, sql, Parameters(action, ids));
            await using var commandDisposal = command.ConfigureAwait(false);
            var reader = await ReadJobsAsync(command, cancellationToken).ConfigureAwait(false);
            await using var readerDisposal = reader.ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                changing.Add(new JobId(reader.GetGuid(0)));
            }

            return changing;
        }, cancellationToken).ConfigureAwait(false);
    }
}
