using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Jobs.Sdk.Dashboard.Live;

/// <summary>
/// The one shared poll per app instance behind the dashboard's server-sent events. It reads a snapshot of the store every
/// <see cref="JobsDashboardOptions.LiveInterval"/> while at least one browser is subscribed, stops when the last one
/// leaves, and fans each snapshot out to every subscriber: N open browsers cost one read per interval, not N.
/// </summary>
internal sealed partial class DashboardLiveHub : IAsyncDisposable
{
    private readonly DashboardSnapshotSource _source;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly HashSet<Subscription> _subscribers = [];
    private readonly CancellationTokenSource _disposed = new();
    private Task? _loop;
    private LiveMessage? _latest;
    private long _polls;

    public DashboardLiveHub(DashboardSnapshotSource source, IOptions<JobsDashboardOptions> options, TimeProvider time, ILogger<DashboardLiveHub> logger)
    {
        _source = source;
        _time = time;
        _interval = options.Value.LiveInterval;
        // Guarded (GuardedLogger): an app's provider that throws (a bug, a sink that is down) would end the poll loop that
        // every browser shares at its first failed read, and the live view stayed frozen until the app restarted.
        _logger = GuardedLogger.For(logger);
    }

    /// <summary>How many snapshots this hub has read from the store since it was created.</summary>
    public long PollCount => Interlocked.Read(ref _polls);

    /// <summary>Browsers (or other subscribers) connected now.</summary>
    public int SubscriberCount
    {
        get
        {
            lock (_gate)
            {
                return _subscribers.Count;
            }
        }
    }

    /// <summary>Whether the poll loop is running (it runs only while someone is subscribed).</summary>
    public bool IsPolling
    {
        get
        {
            lock (_gate)
            {
                return _loop is not null;
            }
        }
    }

    /// <summary>Raised after every poll (tests and diagnostics); the argument is the poll's sequence number.</summary>
    public event Action<long>? Polled;

    /// <summary>
    /// Subscribes to snapshots. The latest snapshot (if any) is delivered at once; the poll starts if it was idle.
    /// Dispose the subscription to leave.
    /// </summary>
    public Subscription Subscribe()
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        var subscription = new Subscription(this);
        lock (_gate)
        {
            _subscribers.Add(subscription);
            if (_latest is { } latest)
            {
                subscription.Offer(latest);
            }

            _loop ??= StartPoll();
        }

        return subscription;
    }

    /// <summary>
    /// Starts the poll loop without the subscribing request's execution context: the loop is the app's, shared by every
    /// browser, and would otherwise keep that request's <c>Activity.Current</c> (every statement of every poll a child of
    /// it, in its trace, for as long as anyone watches) and its logging scope.
    /// </summary>
    private Task StartPoll()
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(() => RunAsync(_disposed.Token));
        }
    }

    private void Unsubscribe(Subscription subscription)
    {
        lock (_gate)
        {
            _subscribers.Remove(subscription);
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var started = _time.GetUtcNow();
                var sequence = Interlocked.Increment(ref _polls);
                LiveMessage message;
                try
                {
                    message = new LiveMessage(sequence, "snapshot", await _source.ReadAsync(sequence, cancellationToken));
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    Log.PollFailed(_logger, ex);
                    message = new LiveMessage(sequence, "store-error", DashboardSnapshotSource.ErrorJson(sequence, ex));
                }

                // A steady cadence: the next poll is due one interval after this one started. The timer starts before the
                // snapshot is published, so whoever reacts to the snapshot (a test advancing a fake clock) cannot outrun it.
                var wait = started + _interval - _time.GetUtcNow();
                var next = wait > TimeSpan.Zero ? Task.Delay(wait, _time, cancellationToken) : Task.CompletedTask;
                lock (_gate)
                {
                    _latest = message;
                    foreach (var subscriber in _subscribers)
                    {
                        subscriber.Offer(message);
                    }
                }

                Polled?.Invoke(sequence);
                await next;

                lock (_gate)
                {
                    if (_subscribers.Count == 0)
                    {
                        // Idle: stop polling. The next subscriber starts a new loop (and gets this last snapshot first).
                        _loop = null;
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task? loop;
        lock (_gate)
        {
            if (_disposed.IsCancellationRequested)
            {
                return;
            }

            _disposed.Cancel();
            loop = _loop;
            foreach (var subscriber in _subscribers)
            {
                subscriber.Complete();
            }
        }

        if (loop is not null)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _disposed.Dispose();
    }

    /// <summary>One subscriber's mailbox: keeps only the newest few snapshots so a slow browser never holds memory.</summary>
    internal sealed class Subscription : IDisposable
    {
        private readonly DashboardLiveHub _hub;
        private readonly Channel<LiveMessage> _channel = Channel.CreateBounded<LiveMessage>(
            new BoundedChannelOptions(2) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

        internal Subscription(DashboardLiveHub hub) => _hub = hub;

        /// <summary>The snapshots, newest last.</summary>
        public ChannelReader<LiveMessage> Reader => _channel.Reader;

        internal void Offer(LiveMessage message) => _channel.Writer.TryWrite(message);

        internal void Complete() => _channel.Writer.TryComplete();

        public void Dispose()
        {
            _hub.Unsubscribe(this);
            Complete();
        }
    }

    private static partial class Log
    {
        // 3000–3099: the dashboard (1000s are the runtime's, 2000s the PostgreSQL driver's; README "Logging" lists them all).
        [LoggerMessage(EventId = 3000, Level = LogLevel.Warning, Message = "The jobs dashboard could not read its live snapshot from the job store.")]
        public static partial void PollFailed(ILogger logger, Exception exception);
    }
}

/// <summary>One server-sent event: a sequence number, an event name and its JSON data.</summary>
internal sealed record LiveMessage(long Sequence, string Event, string Json);
