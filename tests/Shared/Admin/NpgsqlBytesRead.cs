using System.Diagnostics.Metrics;

namespace Jobs.Sdk.Testing;

/// <summary>
/// The bytes PostgreSQL sent one data source, as an app's metrics see them: Npgsql's
/// <c>db.client.operation.npgsql.bytes_read</c> of the pools whose name holds <c>pool</c> (the data source's Application
/// Name): the listener hears the whole test process, so a test gives its data source an Application Name of its own.
/// Used by the tests that bound what a page of the admin's lists and the dashboard's overview read.
/// </summary>
internal sealed class NpgsqlBytesRead : IDisposable
{
    private const string BytesRead = "db.client.operation.npgsql.bytes_read";
    private readonly string _pool;
    private readonly MeterListener _meters = new();
    private long _counted, _observed, _taken;

    public NpgsqlBytesRead(string pool)
    {
        _pool = pool;
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Npgsql" && instrument.Name == BytesRead)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Measured(instrument, value, tags));
        _meters.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Measured(instrument, value, tags));
        _meters.Start();
        Take();
    }

    /// <summary>The bytes read since the last call.</summary>
    public long Take()
    {
        _meters.RecordObservableInstruments();
        var total = Interlocked.Read(ref _counted) + Interlocked.Read(ref _observed);
        var bytes = total - _taken;
        _taken = total;
        return bytes;
    }

    private void Measured(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "db.client.connection.pool.name" && tag.Value is string pool && pool.Contains(_pool, StringComparison.Ordinal))
            {
                if (instrument.IsObservable)
                {
                    Interlocked.Exchange(ref _observed, value); // a cumulative total
                }
                else
                {
                    Interlocked.Add(ref _counted, value);
                }
            }
        }
    }

    public void Dispose() => _meters.Dispose();
}
