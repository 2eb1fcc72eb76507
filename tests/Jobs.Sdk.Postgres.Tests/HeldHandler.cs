namespace Jobs.Sdk.Postgres.Tests;

/// <summary>A handler held running until the test releases it, ignoring its token (it notes that it was cancelled).</summary>
internal sealed class HeldHandler
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _tokenCancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _returned;

    public Task Started => _started.Task;

    public Task TokenCancelled => _tokenCancelled.Task;

    public bool Returned => _returned;

    public void Release() => _release.TrySetResult();

    public async Task RunAsync(CancellationToken ct)
    {
        using var registration = ct.Register(() => _tokenCancelled.TrySetResult());
        _started.TrySetResult();
        try
        {
            await _release.Task.WaitAsync(TimeSpan.FromMinutes(5), CancellationToken.None);
        }
        finally
        {
            _returned = true;
        }
    }
}
