using Jobs.Sdk.Postgres;
using Npgsql;

namespace Jobs.Sdk.Cli;

/// <summary>
/// Runs one check of <c>jobs doctor</c> on a pooled connection of its own; once more on a new connection when the server had
/// ended it while it idled (<see cref="IdleSessionRetry"/>: a role's <c>idle_session_timeout</c> shorter than a spell between
/// two checks, or than a check that reads on another connection). Only the findings of the run that completed count.
/// </summary>
internal static class DoctorCheck
{
    /// <summary>Runs <paramref name="check"/>, adds its findings to <paramref name="findings"/> and returns its result.</summary>
    public static async Task<T> RunAsync<T>(CliContext ctx, List<DoctorFinding> findings, Func<NpgsqlConnection, List<DoctorFinding>, Task<T>> check,
        CancellationToken cancellationToken)
    {
        var (result, found) = await IdleSessionRetry.RunAsync(ctx.DataSource, async (connection, _) =>
        {
            var found = new List<DoctorFinding>();
            return (await check(connection, found).ConfigureAwait(false), found);
        }, cancellationToken).ConfigureAwait(false);
        findings.AddRange(found);
        return result;
    }

    /// <summary>Runs <paramref name="check"/> and adds its findings to <paramref name="findings"/>.</summary>
    public static Task RunAsync(CliContext ctx, List<DoctorFinding> findings, Func<NpgsqlConnection, List<DoctorFinding>, Task> check,
        CancellationToken cancellationToken)
        => RunAsync(ctx, findings, async (connection, found) =>
        {
            await check(connection, found).ConfigureAwait(false);
            return true;
        }, cancellationToken);
}
