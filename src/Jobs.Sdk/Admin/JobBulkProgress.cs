namespace Jobs.Sdk;

/// <summary>
/// How far a bulk action of <see cref="JobAdmin"/> got: reported after each of its batches committed (each batch of at most
/// <see cref="JobAdmin.BatchSize"/> jobs is its own transaction), to the <see cref="IProgress{T}"/> given to the action.
/// </summary>
public sealed class JobBulkProgress
{
    /// <summary>Creates a progress report.</summary>
    /// <param name="batchesDone">The batches committed so far.</param>
    /// <param name="jobsWalked">The jobs of the selection those batches held (the ids given, or the jobs matching the query).</param>
    /// <param name="rowsChanged">How many of them the action changed (what it returns when it ends here).</param>
    public JobBulkProgress(int batchesDone, int jobsWalked, int rowsChanged)
    {
        BatchesDone = batchesDone;
        JobsWalked = jobsWalked;
        RowsChanged = rowsChanged;
    }

    /// <summary>The batches committed so far.</summary>
    public int BatchesDone { get; }

    /// <summary>
    /// The jobs of the selection the committed batches held, changed or not (a job in a state the action skips counts
    /// here, not in <see cref="RowsChanged"/>). Less than <see cref="BatchesDone"/> × <see cref="JobAdmin.BatchSize"/>: the
    /// last batch was short, so it was the last.
    /// </summary>
    public int JobsWalked { get; }

    /// <summary>The jobs changed so far (committed).</summary>
    public int RowsChanged { get; }
}
