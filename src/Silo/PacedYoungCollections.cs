namespace Orleans.Membership.Silo;

/// <summary>
/// Keeps young garbage collections short while ingest runs: when no gen0 collection has happened for
/// <c>Membership:Gc:YoungCollectionEveryMs</c> (default 250; 0 turns it off), it asks for one. A young
/// collection stops the process for as long as it takes to copy what survived since the last one, so the
/// longest stop (what a checkout's p99 sees) grows with the time between collections; the server GC left
/// alone collects about once a second under festival ingest. More, shorter stops cost some throughput
/// (docs/benchmarks.md, "Paced young collections"). Runs on a thread of its own, not the thread pool.
/// </summary>
internal sealed class PacedYoungCollections : IHostedService, IDisposable
{
    private readonly TimeSpan _every;
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;

    public PacedYoungCollections(IConfiguration configuration)
    {
        var ms = configuration.GetValue("Membership:Gc:YoungCollectionEveryMs", 250);
        if (ms < 0) throw new InvalidOperationException($"Membership:Gc:YoungCollectionEveryMs must be 0 (off) or a number of milliseconds, not {ms}");
        _every = TimeSpan.FromMilliseconds(ms);
    }

    /// <summary>Young collections this service asked for.</summary>
    public long Requested => Interlocked.Read(ref _requested);
    private long _requested;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_every == TimeSpan.Zero) return Task.CompletedTask;
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
