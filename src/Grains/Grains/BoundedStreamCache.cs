using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Hosting;
using Orleans.Providers;
using Orleans.Runtime;
using Orleans.Streams;

namespace Orleans.Membership.Grains;

/// <summary>How much a silo holds of what it pulled from the memory stream queues.</summary>
public sealed class StreamBackpressureOptions
{
    /// <summary>
    /// Batches per queue pulled and not yet delivered. At this many the silo stops pulling the queue; the
    /// queue grain then fills (16,384 batches) and producers' sends fail until the members catch up.
    /// </summary>
    public int MaxHeldPerQueue { get; set; } = 1024;

    /// <summary>Batches of a stream nobody consumes are dropped after this long, with a warning and a count.</summary>
    public TimeSpan UnconsumedAfter { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>What the bounded stream caches hold and did, for diagnostics and tests.</summary>
public sealed class StreamBackpressureStats
{
    private long _held;
    private long _peakHeld;
    private long _pressured;
    private long _unconsumed;

    /// <summary>Batches pulled into silo memory and not yet delivered, over all queues.</summary>
    public long Held => Interlocked.Read(ref _held);
    /// <summary>The most any one queue held at once.</summary>
    public long PeakHeldPerQueue => Interlocked.Read(ref _peakHeld);
    /// <summary>Times a queue was found full and not pulled.</summary>
    public long Pressured => Interlocked.Read(ref _pressured);
    /// <summary>Batches dropped because no consumer asked for their stream.</summary>
    public long DroppedUnconsumed => Interlocked.Read(ref _unconsumed);

    internal void Add(long n) => Interlocked.Add(ref _held, n);

    internal void Peak(long queueHeld)
    {
        var peak = Interlocked.Read(ref _peakHeld);
        while (queueHeld > peak && Interlocked.CompareExchange(ref _peakHeld, queueHeld, peak) != peak) peak = Interlocked.Read(ref _peakHeld);
    }

    internal void Pressure() => Interlocked.Increment(ref _pressured);
    internal void Unconsumed(long n) => Interlocked.Add(ref _unconsumed, n);
}

/// <summary>
/// The silo side of the memory streams with bounded memory. Orleans' own memory cache keeps every batch
/// for up to 30 minutes and never reports pressure, so under a festival load a slow silo grows without
/// bound. This cache keeps a batch only until its stream's consumer has moved past it (the member applied
/// it), and reports pressure at <see cref="StreamBackpressureOptions.MaxHeldPerQueue"/> batches, which
/// stops the pull: the backlog stays in the bounded queue grain, and producers are told to retry.
/// </summary>
public sealed class BoundedStreamCacheFactory(IQueueAdapterFactory inner, StreamBackpressureOptions options, StreamBackpressureStats stats, ILoggerFactory loggers)
    : IQueueAdapterFactory, IQueueAdapterCache
{
    [Obsolete("Use the overload which accepts a CancellationToken.")]
    public Task<IQueueAdapter> CreateAdapter() => inner.CreateAdapter(CancellationToken.None);
    public Task<IQueueAdapter> CreateAdapter(CancellationToken cancellationToken) => inner.CreateAdapter(cancellationToken);
    public IQueueAdapterCache GetQueueAdapterCache() => this;
    public IStreamQueueMapper GetStreamQueueMapper() => inner.GetStreamQueueMapper();
    public Task<IStreamFailureHandler> GetDeliveryFailureHandler(QueueId queueId) => inner.GetDeliveryFailureHandler(queueId);

    public IQueueCache CreateQueueCache(QueueId queueId)
        => new BoundedStreamCache(options, stats, TimeProvider.System, loggers.CreateLogger($"{typeof(BoundedStreamCache).FullName}.{queueId}"));
}

/// <summary>One queue's batches, per stream, in sequence order, until every cursor of the stream is past them.</summary>
public sealed class BoundedStreamCache(StreamBackpressureOptions options, StreamBackpressureStats stats, TimeProvider clock, ILogger logger) : IQueueCache
{
    private readonly object _lock = new();
    private readonly Dictionary<StreamId, StreamLog> _streams = [];
    private int _held;
    private DateTimeOffset _nextScan = DateTimeOffset.MinValue;

    private sealed class StreamLog
    {
        public readonly List<(long Seq, IBatchContainer Batch)> Items = [];
        public readonly List<Cursor> Cursors = [];
        public DateTimeOffset LastAdded;
    }

    public int Held { get { lock (_lock) return _held; } }

    /// <summary>Never more than the room left: the bound holds exactly, not to within one pull.</summary>
    public int GetMaxAddCount()
    {
        int room;
        lock (_lock) room = Math.Min(100, Math.Max(0, options.MaxHeldPerQueue - _held));
        if (room == 0) stats.Pressure();
        return room;
    }

    public bool IsUnderPressure()
    {
        lock (_lock)
        {
            if (_held < options.MaxHeldPerQueue) return false;
        }
        stats.Pressure();
        return true;
    }

    public void AddToCache(IList<IBatchContainer> messages)
    {
        lock (_lock)
        {
            var now = clock.GetUtcNow();
            foreach (var batch in messages)
            {
                if (!_streams.TryGetValue(batch.StreamId, out var log)) _streams[batch.StreamId] = log = new StreamLog();
                log.Items.Add((batch.SequenceToken.SequenceNumber, batch));
                log.LastAdded = now;
            }
            _held += messages.Count;
            stats.Add(messages.Count);
            stats.Peak(_held);
        }
    }

    /// <summary>Drops the batches of streams no consumer has asked for in <see cref="StreamBackpressureOptions.UnconsumedAfter"/>.</summary>
    public bool TryPurgeFromCache([MaybeNullWhen(false)] out IList<IBatchContainer> purgedItems)
    {
        purgedItems = null;
        List<IBatchContainer>? dropped = null;
        lock (_lock)
        {
            // The agent asks before every pull; a scan of every stream that often would cost more than
            // the pull. A batch is dropped between UnconsumedAfter and 1.25 x UnconsumedAfter.
            var now = clock.GetUtcNow();
            if (now < _nextScan) return false;
            _nextScan = now + options.UnconsumedAfter / 4;
            var before = now - options.UnconsumedAfter;
            foreach (var (id, log) in _streams)
            {
                if (log.Cursors.Count > 0 || log.LastAdded > before) continue;
                dropped ??= [];
                foreach (var (_, batch) in log.Items) dropped.Add(batch);
                Release(log.Items.Count);
                log.Items.Clear();
            }
            foreach (var id in _streams.Where(kv => kv.Value.Items.Count == 0 && kv.Value.Cursors.Count == 0).Select(kv => kv.Key).ToList()) _streams.Remove(id);
        }
        if (dropped is null) return false;
        stats.Unconsumed(dropped.Count);
        logger.LogWarning("Dropped {Count} stream batches that no consumer asked for within {After} (stream {Stream} and others)",
            dropped.Count, options.UnconsumedAfter, dropped[0].StreamId);
        purgedItems = dropped;
        return true;
    }

    public IQueueCacheCursor GetCacheCursor(StreamId streamId, StreamSequenceToken? token)
    {
        var result = TryGetCacheCursor(streamId, token);
        return result.Kind == QueueCacheCursorResultKind.Success ? result.Cursor! : throw result.CacheMiss!.Value.ToException();
    }

    public QueueCacheCursorResult<IQueueCacheCursor> TryGetCacheCursor(StreamId streamId, StreamSequenceToken? token)
    {
        lock (_lock)
        {
            if (!_streams.TryGetValue(streamId, out var log)) _streams[streamId] = log = new StreamLog();
            var start = token?.SequenceNumber ?? (log.Items.Count > 0 ? log.Items[0].Seq : long.MinValue);
            // A cursor asked to start at a batch this cache no longer holds would skip one it does hold
            // (the agent moves past the token's batch): a miss, and the agent starts at the batch it has.
            if (token is not null && !log.Items.Exists(i => i.Seq == start) && log.Items.Exists(i => i.Seq > start))
            {
                return QueueCacheCursorResult<IQueueCacheCursor>.FromCacheMiss(
                    new QueueCacheMissInfo(token, log.Items[0].Batch.SequenceToken, log.Items[^1].Batch.SequenceToken));
            }
            var cursor = new Cursor(this, log, start);
            log.Cursors.Add(cursor);
            return QueueCacheCursorResult<IQueueCacheCursor>.FromCursor(cursor);
        }
    }

    private void Release(int count)
    {
        _held -= count;
        stats.Add(-count);
    }

    /// <summary>Removes the batches every cursor of the stream has moved past.</summary>
    private void Trim(StreamLog log)
    {
        var through = long.MaxValue;
        foreach (var c in log.Cursors) through = Math.Min(through, c.DoneThrough);
        var n = 0;
        while (n < log.Items.Count && log.Items[n].Seq <= through) n++;
        if (n == 0) return;
        log.Items.RemoveRange(0, n);
        Release(n);
    }

    private sealed class Cursor(BoundedStreamCache cache, StreamLog log, long start) : IQueueCacheCursor
    {
        private IBatchContainer? _current;
        private long _next = start;
        private bool _disposed;

        /// <summary>The last seq this cursor's consumer is done with.</summary>
        public long DoneThrough { get; private set; } = start == long.MinValue ? long.MinValue : start - 1;

        public IBatchContainer? GetCurrent(out Exception? exception)
        {
            exception = null;
            return _current;
        }

        [Obsolete("Use MoveNextWithResult instead.")]
        public bool MoveNext() => MoveNextWithResult().Kind == QueueCacheCursorMoveResultKind.Success;

        /// <summary>The agent moves on only once the current batch is delivered (or given up): it is done.</summary>
        public QueueCacheCursorMoveResult MoveNextWithResult()
        {
            lock (cache._lock)
            {
                if (_current is not null)
                {
                    DoneThrough = _current.SequenceToken.SequenceNumber;
                    _current = null;
                    cache.Trim(log);
                }
                foreach (var (seq, batch) in log.Items)
                {
                    if (seq < _next) continue;
                    _current = batch;
                    _next = seq + 1;
                    return QueueCacheCursorMoveResult.Success;
                }
                return QueueCacheCursorMoveResult.NoData;
            }
        }

        public void Refresh(StreamSequenceToken token) { }

        public void RecordDeliveryFailure() { }

        public void Dispose()
        {
            lock (cache._lock)
            {
                if (_disposed) return;
                _disposed = true;
                log.Cursors.Remove(this);
                cache.Trim(log);
            }
        }
    }
}

public static class BoundedStreamHosting
{
    /// <summary>
    /// Memory streams whose silo side holds at most <see cref="StreamBackpressureOptions.MaxHeldPerQueue"/>
    /// undelivered batches per queue (see <see cref="BoundedStreamCacheFactory"/>).
    /// </summary>
    public static ISiloBuilder AddBoundedMemoryStreams(this ISiloBuilder silo, string name, StreamBackpressureOptions options, Action<ISiloMemoryStreamConfigurator>? configure = null)
    {
        silo.AddMemoryStreams(name, s => configure?.Invoke(s));
        silo.Services.AddSingleton<StreamBackpressureStats>();
        // Registered after AddMemoryStreams: the provider resolves the last factory registered under its name.
        silo.Services.AddKeyedSingleton<IQueueAdapterFactory>(name, (sp, key) => new BoundedStreamCacheFactory(
            MemoryAdapterFactory<DefaultMemoryMessageBodySerializer>.Create(sp, (string)key!), options,
            sp.GetRequiredService<StreamBackpressureStats>(), sp.GetRequiredService<ILoggerFactory>()));
        return silo;
    }
}
