using Jobs.Sdk.Drivers;
using Jobs.Sdk.Testing;

namespace Jobs.Sdk.Admin.Tests;

/// <summary>
/// Passes every call to the real admin store; <see cref="AfterFind"/> runs after a bulk action by filter found its ids and
/// before it acts on them: a deterministic place for what happens to those jobs meanwhile (a worker, another operator).
/// </summary>
public sealed class InterleavingAdminStore(IJobAdminStore inner) : DelegatingAdminStore(inner)
{
    /// <summary>Runs once per id batch found (with the ids), then the action is applied to them.</summary>
    public Func<IReadOnlyList<JobId>, Task>? AfterFind { get; set; }

    /// <summary>Runs after each batch an action changed (with the rows changed): what happens once the change committed.</summary>
    public Action<int>? AfterApply { get; set; }

    public override async Task<IReadOnlyList<JobId>> FindJobIdsAsync(JobQuery query, JobId? after, int limit, CancellationToken cancellationToken)
    {
        var ids = await base.FindJobIdsAsync(query, after, limit, cancellationToken);
        if (AfterFind is { } hook)
        {
            await hook(ids);
        }

        return ids;
    }

    public override async Task<int> ApplyAsync(JobAdminAction action, IReadOnlyList<JobId> ids, CancellationToken cancellationToken)
    {
        var changed = await base.ApplyAsync(action, ids, cancellationToken);
        AfterApply?.Invoke(changed);
        return changed;
    }
}
