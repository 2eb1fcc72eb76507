namespace Jobs.Sdk;

/// <summary>
/// How far a bulk action of <see cref="JobAdmin"/> got: reported after each of its batches committed (each batch of at most
/// <see cref="JobAdmin.BatchSize"/> jobs is its own transaction, or several smaller ones while the store's time limit for one
/// statement cancels a whole batch), to the <see cref="IProgress{T}"/> given to the action.
/// A value: two reports of the same progress are equal, and it prints its three counts.
/// </summary>
/// <param name="BatchesDone">The batches committed so far.</param>
/// <param name="JobsWalked">
/// The jobs of the selection the committed batches held (the ids given, or the jobs matching the query), changed or not (a
/// job in a state the action skips counts here, not in <paramref name="RowsChanged"/>). Less than
/// <paramref name="BatchesDone"/> × <see cref="JobAdmin.BatchSize"/>: the last batch was short, so it was the last.
/// </param>
/// <param name="RowsChanged">The jobs changed so far (committed): what the action returns when it ends here.</param>
public sealed record JobBulkProgress(int BatchesDone, int JobsWalked, int RowsChanged);
