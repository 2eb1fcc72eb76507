using System.Globalization;

namespace Jobs.Sdk.Postgres;

/// <summary>What a NOTIFY on a queue's channel says.</summary>
internal enum JobNotificationKind
{
    /// <summary>Jobs are due now (empty payload).</summary>
    Due,

    /// <summary>A delayed job falls due at <see cref="JobNotification.DueAtUnixMs"/> (<c>d:{unix ms}</c>).</summary>
    DueAt,

    /// <summary>
    /// A user asked to cancel running job <see cref="JobNotification.JobId"/> while claim <see cref="JobNotification.LeaseToken"/>
    /// ran it (<c>c:{id}:{lease token}</c>; older versions send <c>c:{id}</c>, read with an empty token).
    /// </summary>
    CancelRequested,

    /// <summary>The queue was paused (<c>p</c>): workers release the jobs they claimed but have not started.</summary>
    QueuePaused,
}

/// <summary>
/// The payload of a job notification, and the one owner of its wire format both ways: <see cref="TryParse"/> reads
/// what the listener receives, <see cref="Format"/> writes it from C#, and the <c>Sql…</c> members write it from SQL
/// (the statements in <see cref="JobSql"/> and <see cref="ScheduleSql"/> are built from them).
/// </summary>
internal readonly record struct JobNotification(JobNotificationKind Kind, long DueAtUnixMs = 0, JobId JobId = default, Guid LeaseToken = default)
{
    private const string DueAtPrefix = "d:";
    private const string CancelPrefix = "c:";
    private const string QueuePausedPayload = "p";
    private const char TokenSeparator = ':';

    /// <summary>SQL expression of a <see cref="JobNotificationKind.Due"/> payload.</summary>
    public const string SqlDue = "''";

    /// <summary>SQL expression of a <see cref="JobNotificationKind.DueAt"/> payload for the timestamptz expression <paramref name="runAt"/>.</summary>
    public static string SqlDueAt(string runAt) => "'" + DueAtPrefix + "' || (extract(epoch FROM " + runAt + ") * 1000)::bigint";

    /// <summary>
    /// SQL expression of a <see cref="JobNotificationKind.CancelRequested"/> payload for the uuid expressions <paramref name="id"/>
    /// and <paramref name="leaseToken"/> (the claim running the job; NULL leaves it out).
    /// </summary>
    public static string SqlCancelRequested(string id, string leaseToken) =>
        "'" + CancelPrefix + "' || " + id + "::text || coalesce('" + TokenSeparator + "' || " + leaseToken + "::text, '')";

    /// <summary>The payload text.</summary>
    public string Format() => Kind switch
    {
        JobNotificationKind.Due => "",
        JobNotificationKind.DueAt => DueAtPrefix + DueAtUnixMs.ToString(CultureInfo.InvariantCulture),
        JobNotificationKind.QueuePaused => QueuePausedPayload,
        _ => LeaseToken == Guid.Empty
            ? CancelPrefix + JobId.Value.ToString("D")
            : CancelPrefix + JobId.Value.ToString("D") + TokenSeparator + LeaseToken.ToString("D"),
    };

    /// <summary>Reads a payload; false when it is not one this version knows.</summary>
    public static bool TryParse(string payload, out JobNotification notification)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (payload.Length == 0)
        {
            notification = new JobNotification(JobNotificationKind.Due);
            return true;
        }

        if (payload == QueuePausedPayload)
        {
            notification = new JobNotification(JobNotificationKind.QueuePaused);
            return true;
        }

        if (payload.StartsWith(DueAtPrefix, StringComparison.Ordinal)
            && long.TryParse(payload.AsSpan(DueAtPrefix.Length), NumberStyles.Integer, CultureInfo.InvariantCulture, out var dueAt))
        {
            notification = new JobNotification(JobNotificationKind.DueAt, DueAtUnixMs: dueAt);
            return true;
        }

        if (payload.StartsWith(CancelPrefix, StringComparison.Ordinal))
        {
            var rest = payload.AsSpan(CancelPrefix.Length);
            var separator = rest.IndexOf(TokenSeparator);
            var token = Guid.Empty;
            if (Guid.TryParse(separator < 0 ? rest : rest[..separator], out var id)
                && (separator < 0 || Guid.TryParse(rest[(separator + 1)..], out token)))
            {
                notification = new JobNotification(JobNotificationKind.CancelRequested, JobId: new JobId(id), LeaseToken: token);
                return true;
            }
        }

        notification = default;
        return false;
    }
}
