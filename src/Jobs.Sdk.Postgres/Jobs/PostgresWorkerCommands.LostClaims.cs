using Jobs.Sdk.Drivers;
using Npgsql;
using static Jobs.Sdk.Postgres.SqlParameters;

namespace Jobs.Sdk.Postgres;

// A claim whose reply the worker never read: the worker stopped while it was in flight (its token cancelled it), or the
// connection broke. The claim may have committed, and then its jobs are the worker's (processing, an attempt counted,
// started) though it never received them: left alone they would wait out the lease and be rescued with that attempt
// counted, so a job on its last attempt would fail without having run.
internal sealed partial class PostgresWorkerCommands
{
    /// <summary>How long a worker goes on trying to give back a lost claim's jobs before it leaves them to lease rescue.</summary>
    internal static readonly TimeSpan LostClaimSettleTime = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Whether the claim may have committed although it threw: cancelled, or the connection failed, so its reply was
    /// lost. An error the server reported (<see cref="PostgresException"/>) ended its transaction without a commit.
    /// </summary>
    private static bool ClaimMayHaveCommitted(Exception ex) => ex switch
    {
        PostgresException => false,
        OperationCanceledException or NpgsqlException or TimeoutException or IOException => true,
        _ => false,
    };

    /// <summary>
    /// Gives back, uncounted, the jobs worker <paramref name="workerId"/> holds from the claim of lease tokens
    /// <paramref name="tokens"/> (an outcome of kind <see cref="JobOutcomeKind.Release"/> each: pending again, the
    /// attempt not counted, a cancel requested meanwhile kept). Best effort for <see cref="LostClaimSettleTime"/> on
    /// connections of its own, since the claim's was cancelled or lost; if the store stays unreachable, the leases
    /// expire and rescue takes the jobs back as before.
    /// </summary>
    private async Task GiveBackLostClaimAsync(string workerId, Guid tokens)
    {
        using var timeout = new CancellationTokenSource(LostClaimSettleTime);
        for (var failures = 1; ; failures++)
        {
            try
            {
                var held = await context.Commands.QueryAsync(_claimedWithSql, [Text(context.Queue), Text(workerId), Uuid(tokens)], SqlRun.None,
                    static async (reader, ct) =>
                    {
                        var rows = new List<JobOutcome>();
                        while (await reader.ReadAsync(ct).ConfigureAwait(false))
                        {
                            rows.Add(new JobOutcome(new JobId(reader.GetGuid(0)), JobOutcomeKind.Release, reader.GetInt32(2), LeaseToken: reader.GetGuid(1)));
                        }

                        return rows;
                    }, timeout.Token).ConfigureAwait(false);
                if (held.Count > 0)
                {
                    await CompleteAsync(workerId, held, timeout.Token).ConfigureAwait(false);
                }

                return;
            }
            catch (Exception ex) when (!timeout.IsCancellationRequested && PostgresRetry.IsTransient(ex))
            {
                try
                {
                    await Task.Delay(PostgresRetry.Backoff(failures), timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or NpgsqlException or TimeoutException or IOException)
            {
                return; // out of time, or the store refused: the lease rescue is the fallback
            }
        }
    }
}
