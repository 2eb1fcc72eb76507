namespace Jobs.Sdk.Drivers;

/// <summary>
/// The holds on a driver's closing (<see cref="IHeldDisposal"/>): <see cref="CloseAsync"/> closes at once when nothing holds
/// it, otherwise when the last hold is released (by the worker that took it, which then awaits the closing).
/// </summary>
internal sealed class DisposalHolds
{
    private readonly Lock _gate = new();
    private int _holds;
    private Func<ValueTask>? _close; // set by CloseAsync while held; run by the last release
    private bool _closed;

    /// <summary>Holds the closing until the returned hold is disposed; a hold taken after the closing ran holds nothing.</summary>
    public IAsyncDisposable Hold()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return Released.Instance;
            }

            _holds++;
            return new HoldHandle(this);
        }
    }

    /// <summary>Runs <paramref name="close"/> now when nothing holds it, or later, when the last hold is released.</summary>
    public ValueTask CloseAsync(Func<ValueTask> close)
    {
        lock (_gate)
        {
            if (_holds > 0)
            {
                _close = close;
                return default;
            }

            _closed = true;
        }

        return close();
    }

    private ValueTask ReleaseAsync()
    {
        Func<ValueTask>? close;
        lock (_gate)
        {
            if (--_holds > 0 || _close is null)
            {
                return default;
            }

            (close, _close, _closed) = (_close, null, true);
        }

        return close();
    }

    private sealed class HoldHandle(DisposalHolds owner) : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync() => Interlocked.Exchange(ref _released, 1) == 0 ? owner.ReleaseAsync() : default;
    }

    private sealed class Released : IAsyncDisposable
    {
        public static readonly Released Instance = new();

        public ValueTask DisposeAsync() => default;
    }
}
