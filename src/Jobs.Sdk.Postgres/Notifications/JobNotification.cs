using System.Globalization;

namespace Jobs.Sdk.Postgres;

/// <summary>What a NOTIFY on a queue's channel says.</summary>
internal enum JobNotificationKind
{
    /// <summary>Jobs are due now (empty payload).</summary>
    Due,

    /// <summary>A delayed job falls due at <see cref="JobNotification.DueAtUnixMs"/> (<c>d:{unix ms}</c>).</summary>
    DueAt,

    /// <summary>A user asked to cancel running job <see cref="JobNotification.JobId"/> (<c>c:{uuid}</c>).</summary>
    CancelRequested,
}

/// <summary>
/// The payload of a job notification, and the one owner of its wire format both ways: <see cref="TryParse"/> reads
/// what the listener receives, <see cref="Format"/> writes it from C#, and the <c>Sql…</c> members write it from SQL
/// (the statements in <see cref="JobSql"/> and <see cref="ScheduleSql"/> are built from them).
/// </summary>
internal readonly record struct JobNotification(JobNotificationKind Kind, long DueAtUnixMs = 0, JobId JobId = default)
{
    private const string DueAtPrefix = "d:";
    private const string CancelPrefix = "c:";

    /// <summary>SQL expression of a <see cref="JobNotificationKind.Due"/> payload.</summary>
    public const string SqlDue = "''";

    /// <summary>SQL expression of a <see cref="JobNotificationKind.DueAt"/> payload for the timestamptz expression <paramref name="runAt"/>.</summary>
    public static string SqlDueAt(string runAt) => "'" + DueAtPrefix + "' || (extract(epoch FROM " + runAt + ") * 1000)::bigint";

    /// <summary>SQL expression of a <see cref="JobNotificationKind.CancelRequested"/> payload for the uuid expression <paramref name="id"/>.</summary>
    public static string SqlCancelRequested(string id) => "'" + CancelPrefix + "' || " + id + "::text";

    /// <summary>The payload text.</summary>
    public string Format() => Kind switch
    {
        JobNotificationKind.Due => "",
        JobNotificationKind.DueAt => DueAtPrefix + DueAtUnixMs.ToString(CultureInfo.InvariantCulture),
        _ => CancelPrefix + JobId.Value.ToString("D"),
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

        if (payload.StartsWith(DueAtPrefix, StringComparison.Ordinal)
            && long.TryParse(payload.AsSpan(DueAtPrefix.Length), NumberStyles.Integer, CultureInfo.InvariantCulture, out var dueAt))
        {
            notification = new JobNotification(JobNotificationKind.DueAt, DueAtUnixMs: dueAt);
            return true;
        }

        if (payload.StartsWith(CancelPrefix, StringComparison.Ordinal) && Guid.TryParse(payload.AsSpan(CancelPrefix.Length), out var id))
        {
            notification = new JobNotification(JobNotificationKind.CancelRequested, JobId: new JobId(id));
            return true;
        }

        notification = default;
        return false;
    }
}
