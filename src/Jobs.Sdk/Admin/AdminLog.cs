using Microsoft.Extensions.Logging;

namespace Jobs.Sdk;

/// <summary>Log messages of <see cref="JobAdmin"/> and worker presence (event ids 1400-1419; 2047).</summary>
internal static partial class AdminLog
{
    [LoggerMessage(EventId = 1400, Level = LogLevel.Information,
        Message = "Admin action {Action} on {Target} changed {RowsChanged} row(s); actor {Actor}, reason '{Reason}'")]
    public static partial void Action(ILogger logger, string action, string target, int rowsChanged, string actor, string reason);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Error, Message = "Admin action {Action} on {Target} failed after changing {RowsChanged} row(s)")]
    public static partial void BulkActionFailed(ILogger logger, Exception exception, string action, string target, int rowsChanged);

    [LoggerMessage(EventId = 2047, Level = LogLevel.Warning, Message = "Admin action {Action} on {Target} changed {RowsChanged} row(s) and left {Left} job(s) unchanged: " +
        "other transactions held their rows locked past the action's lock wait. Held by: {Holders}. End those transactions or wait for them, then run the action again on the jobs left")]
    public static partial void BulkActionLeftLocked(ILogger logger, string action, string target, int rowsChanged, int left, string holders);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Warning, Message = "Writing the audit entry of {Action} on {Target} failed")]
    public static partial void AuditFailed(ILogger logger, Exception exception, string action, string target);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Warning, Message = "Reporting the presence of worker {WorkerId} failed")]
    public static partial void PresenceFailed(ILogger logger, Exception exception, string workerId);

    [LoggerMessage(EventId = 1404, Level = LogLevel.Warning, Message = "Publishing {Count} schedule entries failed")]
    public static partial void PublishSchedulesFailed(ILogger logger, Exception exception, int count);
}
