namespace Jobs.Sdk.Cli;

/// <summary>
/// A bulk action's progress on stderr: a line after each full batch of <see cref="JobAdmin.BatchSize"/> jobs (more may
/// follow), with the jobs changed so far and the batches done, so an action over many batches is not silent for minutes.
/// A short batch is the last one: the result says the rest. Written at once, in order (not through
/// <see cref="Progress{T}"/>, which would post it to the thread pool); stdout keeps only the result (the JSON document).
/// </summary>
internal sealed class BulkProgressLine(string verb) : IProgress<JobBulkProgress>
{
    public void Report(JobBulkProgress value)
    {
        if (value.JobsWalked < value.BatchesDone * JobAdmin.BatchSize)
        {
            return;
        }

        Console.Error.WriteLine($"{verb}: {value.RowsChanged} job(s) changed so far, {value.BatchesDone} {(value.BatchesDone == 1 ? "batch" : "batches")} done.");
    }
}
