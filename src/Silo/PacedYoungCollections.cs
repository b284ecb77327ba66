namespace Orleans.Membership.Silo;

/// <summary>
/// Paces young garbage collections: when no gen0 collection has happened for
/// <c>Membership:Gc:YoungCollectionEveryMs</c> milliseconds, it asks for one (default 0: off). A young
/// collection stops the process for as long as it takes to copy what survived since the last one; when
/// members' rows were arrays on the collector's heap, what survived grew with the time between
/// collections, and pacing them every 250 ms (the default then) made the stops shorter. Since members'
/// rows are in native memory, young collections under festival ingest come every 80 ms or so by
/// themselves and copy little; the induced ones added gen1 collections and the checkout tail was no
/// better, so it is off unless set (docs/benchmarks.md, "Members' rows outside the collector's heap").
/// Runs on a thread of its own, not the thread pool.
/// </summary>
internal sealed class PacedYoungCollections : IHostedService, IDisposable
{
    private readonly TimeSpan _every;
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;

    public PacedYoungCollections(IConfiguration configuration)
    {
        var ms = configuration.GetValue("Membership:Gc:YoungCollectionEveryMs", 0);
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
