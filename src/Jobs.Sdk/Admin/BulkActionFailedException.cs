namespace Jobs.Sdk;

/// <summary>
/// A bulk action of <see cref="JobAdmin"/> that failed after some of its statements committed: the message says how many
/// jobs changed and why it stopped (the cause is the inner exception: the store's, or <see cref="JobBatchTimeoutException"/>
/// for a single job past the time limit). A <see cref="JobsException"/> to callers; <see cref="Changed"/> lets the
/// dashboard answer the count without reading the message.
/// </summary>
internal sealed class BulkActionFailedException(string message, int changed, Exception innerException) : JobsException(message, innerException)
{
    /// <summary>The jobs changed (committed, audited) before the action stopped.</summary>
    public int Changed { get; } = changed;
}
