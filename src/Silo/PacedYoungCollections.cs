namespace Orleans.Membership.Silo;

/// <summary>
/// Paces young garbage collections: when no gen0 collection has happened for
/// <c>Membership:Gc:YoungCollectionEveryMs</c> milliseconds (default 50; 0 turns it off), it asks for
/// one. How long a young collection stops the process grows with what survived since the last one, and
/// what survives grows with the time between them while requests are in flight: the collector sizes
/// its young generation to the load it saw, so right after festival ingest starts on a quiet node, or
/// on PostgreSQL, where appends wait for the group commit, its own collections come hundreds of
/// milliseconds apart; under steady embedded ingest every 60 to 80 ms. Since festival batches call their
/// members in waves (less is queued at a collection), 50 ms gave shorter checkout tails than 100, with
/// ingest starting and steady (docs/benchmarks.md, "Festival batches in waves"; "Members' rows outside
/// the collector's heap" has 0, 100, 150 and 250 before the waves). Runs on a thread of its own, not
/// the thread pool.
/// </summary>
internal sealed class PacedYoungCollections : IHostedService, IDisposable
{
    /// <summary>The period when none is configured.</summary>
    public const int DefaultEveryMs = 50;

    private readonly TimeSpan _every;
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;

    public PacedYoungCollections(IConfiguration configuration)
    {
        var ms = configuration.GetValue("Membership:Gc:YoungCollectionEveryMs", DefaultEveryMs);
        if (ms < 0) throw new InvalidOperationException($"Membership:Gc:YoungCollectionEveryMs must be 0 (off) or a number of milliseconds, not {ms}");
        _every = TimeSpan.FromMilliseconds(ms);
    }

    /// <summary>Whether it paces at all (a period was set).</summary>
    public bool Paces => _every > TimeSpan.Zero;

    /// <summary>Young collections this service asked for.</summary>
    public long Requested => Interlocked.Read(ref _requested);
    private long _requested;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Paces) return Task.CompletedTask;
        _thread = new Thread(Run) { IsBackground = true, Name = "Paced young GC" };
        _thread.Start();
        return Task.CompletedTask;
    }

    private void Run()
    {
        var seen = GC.CollectionCount(0);
        while (!_stop.Token.WaitHandle.WaitOne(_every))
        {
            var now = GC.CollectionCount(0);
            if (now == seen)
            {
                GC.Collect(0, GCCollectionMode.Forced, blocking: true);
                Interlocked.Increment(ref _requested);
                now = GC.CollectionCount(0);
            }
            seen = now;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stop.Cancel();
        _thread?.Join();
        return Task.CompletedTask;
    }

    public void Dispose() => _stop.Dispose();
}
