using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Membership.Grains;
using Orleans.Membership.Tests.Support;
using Orleans.Providers.Streams.Common;
using Orleans.Runtime;
using Orleans.Streams;
using static Orleans.Membership.Tests.Support.MemberHarness;

namespace Orleans.Membership.Tests.Grains;

/// <summary>The silo's stream cache on its own: what it holds, when it lets go, and what it tells the pulling agent.</summary>
public sealed class BoundedStreamCacheTests
{
    private sealed class Batch(StreamId stream, long seq) : IBatchContainer
    {
        public StreamId StreamId { get; } = stream;
        public StreamSequenceToken SequenceToken { get; } = new EventSequenceTokenV2(seq);
        public IEnumerable<Tuple<T, StreamSequenceToken>> GetEvents<T>() => [];
        public bool ImportRequestContext() => false;
    }

    private static readonly StreamId A = StreamId.Create("scoring-events", "default/a");
    private static readonly StreamId B = StreamId.Create("scoring-events", "default/b");

    private readonly ManualClock _clock = new(At("2026-11-11T12:00:00+08:00"));
    private readonly StreamBackpressureStats _stats = new();

    private BoundedStreamCache Cache(int maxHeld = 4)
        => new(new StreamBackpressureOptions { MaxHeldPerQueue = maxHeld }, _stats, _clock, NullLogger.Instance);

    private static long Seq(IQueueCacheCursor cursor) => cursor.GetCurrent(out _)!.SequenceToken.SequenceNumber;

    [Fact]
    public void A_batch_is_held_until_its_cursor_moves_past_it_and_a_full_cache_stops_the_pull()
    {
        var cache = Cache(maxHeld: 3);
        cache.AddToCache([new Batch(A, 1), new Batch(B, 2), new Batch(A, 3)]);
        Assert.Equal(0, cache.GetMaxAddCount());
        Assert.True(cache.IsUnderPressure());

        var a = cache.GetCacheCursor(A, new EventSequenceTokenV2(1));
        Assert.True(a.Moved());
        Assert.Equal(1, Seq(a));
        Assert.Equal(3, cache.Held); // handed out, not yet delivered
        Assert.True(a.Moved());   // the agent moves on only after delivering seq 1
        Assert.Equal(3, Seq(a));
        Assert.Equal(2, cache.Held);
        Assert.False(cache.IsUnderPressure());
        Assert.Equal(1, cache.GetMaxAddCount());
        Assert.False(a.Moved());
        Assert.Equal(1, cache.Held); // only B's batch is left
        Assert.Equal(1, _stats.Held);
        Assert.Equal(3, _stats.PeakHeldPerQueue);
    }

    [Fact]
    public void A_cursor_sees_batches_added_after_it_ran_dry()
    {
        var cache = Cache();
        cache.AddToCache([new Batch(A, 1)]);
        var a = cache.GetCacheCursor(A, new EventSequenceTokenV2(1));
        Assert.True(a.Moved());
        Assert.False(a.Moved());
        cache.AddToCache([new Batch(A, 5)]);
        Assert.True(a.Moved());
        Assert.Equal(5, Seq(a));
    }

    [Fact]
    public void With_two_consumers_a_batch_stays_until_both_are_past_it()
    {
        var cache = Cache();
        cache.AddToCache([new Batch(A, 1), new Batch(A, 2)]);
        var first = cache.GetCacheCursor(A, new EventSequenceTokenV2(1));
        var second = cache.GetCacheCursor(A, new EventSequenceTokenV2(1));
        first.Moved(); first.Moved(); first.Moved();
        Assert.Equal(2, cache.Held);
        second.Moved(); second.Moved();
        Assert.Equal(1, cache.Held);
        second.Dispose(); // a consumer that leaves no longer holds anything back
        Assert.Equal(0, cache.Held);
    }

    [Fact]
    public void A_cursor_asked_for_a_batch_no_longer_held_is_a_cache_miss_rather_than_a_skipped_batch()
    {
        var cache = Cache();
        cache.AddToCache([new Batch(A, 1), new Batch(A, 2), new Batch(A, 3)]);
        var a = cache.GetCacheCursor(A, new EventSequenceTokenV2(1));
        a.Moved(); a.Moved(); // 1 delivered and let go
        // The agent would move past the token's batch; starting at 2 instead would skip an undelivered one.
        Assert.Equal(QueueCacheCursorResultKind.CacheMiss, cache.TryGetCacheCursor(A, new EventSequenceTokenV2(1)).Kind);
        Assert.Throws<QueueCacheMissException>(() => cache.GetCacheCursor(A, new EventSequenceTokenV2(1)));
        var resumed = cache.GetCacheCursor(A, new EventSequenceTokenV2(2));
        Assert.True(resumed.Moved());
        Assert.Equal(2, Seq(resumed));
    }

    [Fact]
    public void Batches_nobody_consumes_are_dropped_after_a_minute_or_a_little_more_and_counted()
    {
        var cache = Cache();
        cache.AddToCache([new Batch(A, 1), new Batch(B, 2)]);
        var a = cache.GetCacheCursor(A, new EventSequenceTokenV2(1)); // A has a consumer that has not moved yet
        _clock.Advance(TimeSpan.FromSeconds(59));
        Assert.False(cache.TryPurgeFromCache(out _));
        // Streams are scanned every quarter of the minute, not on every pull.
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.False(cache.TryPurgeFromCache(out _));
        _clock.Advance(TimeSpan.FromSeconds(14));
        Assert.True(cache.TryPurgeFromCache(out var purged));
        Assert.Equal(2, Assert.Single(purged).SequenceToken.SequenceNumber);
        Assert.Equal(1, _stats.DroppedUnconsumed);
        Assert.Equal(1, cache.Held);
        Assert.True(a.Moved());
    }
}

internal static class CursorMoves
{
    public static bool Moved(this IQueueCacheCursor cursor) => cursor.MoveNextWithResult().Kind == QueueCacheCursorMoveResultKind.Success;
}
