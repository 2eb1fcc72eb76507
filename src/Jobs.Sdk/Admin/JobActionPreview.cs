namespace Jobs.Sdk;

/// <summary>
/// What a bulk action of <see cref="JobAdmin"/> would change (<see cref="JobAdmin.PreviewAsync"/>, a dry run): nothing was
/// changed. It holds for the moment it was taken: jobs that change meanwhile (a worker finishing one, a push matching the
/// filter) make the action change more or fewer.
/// </summary>
public sealed class JobActionPreview
{
    /// <summary>Creates a preview.</summary>
    /// <param name="selected">The jobs the selection holds: the ids given, or the jobs matching the query.</param>
    /// <param name="wouldChange">How many of them the action would change (what it would return).</param>
    /// <param name="sample">The first of those, id ascending.</param>
    public JobActionPreview(int selected, int wouldChange, IReadOnlyList<JobId> sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        Selected = selected;
        WouldChange = wouldChange;
        Sample = sample;
    }

    /// <summary>The jobs the selection holds: the ids given (stored or not), or the jobs matching the query.</summary>
    public int Selected { get; }

    /// <summary>How many jobs the action would change now: the count it would return.</summary>
    public int WouldChange { get; }

    /// <summary>The first jobs (id ascending) the action would change, at most the sample size asked for.</summary>
    public IReadOnlyList<JobId> Sample { get; }
}
