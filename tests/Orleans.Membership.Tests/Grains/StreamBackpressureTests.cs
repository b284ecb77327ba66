using Microsoft.Extensions.DependencyInjection;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Grains;
using Orleans.Membership.Tests.Support;
using Orleans.Streams;
using Orleans.TestingHost;
using static Orleans.Membership.Tests.Support.MemberHarness;

namespace Orleans.Membership.Tests.Grains;

/// <summary>
/// Producers outrun the members (their ledger is stalled): the silo holds a bounded number of batches,
/// the queue fills, the producer is told to retry, and once the members catch up every batch the queue
/// took is applied exactly once. A silo of its own: one queue, a small bound.
/// </summary>
public sealed class StreamBackpressureTests : IAsyncLifetime
{
    private const int MaxHeld = 64;
    private const int QueueCapacity = 16_384; // Orleans' memory queue grain refuses more
    private const int Members = 40;
    private static readonly TestLedger Ledger = new(open: false);
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.Programs);
            silo.AddMemoryGrainStorage(StorageNames.Snapshots);
            silo.AddBoundedMemoryStreams(ScoringStreams.Provider, new StreamBackpressureOptions { MaxHeldPerQueue = MaxHeld }, s =>
            {
                s.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
                s.ConfigurePartitioning(1);
                // A held queue is looked at again on the agent's next tick: tick often, so the drain is quick.
                s.ConfigurePullingAgent(o => o.Configure(a => a.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(10)));
            });
        });
        builder.ConfigureClient(client => client.AddMemoryStreams(ScoringStreams.Provider, s =>
        {
            s.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
            s.ConfigurePartitioning(1);
        }));
        builder.ConfigureSiloHost((_, host) =>
        {
            host.Services.AddMemberGrainServices(_ => Ledger, new ManualClock(At("2026-11-11T12:00:00+08:00")), _ => new InMemoryDueIndex());
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
        await _cluster.Client.GetGrain<IProgramGrain>("default").Ensure(TestPrograms.Json("default"));
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static ScoringEvent Review(int n) => new($"rv{n}", "review", null, null, null, null);

    [Fact]
    public async Task A_producer_that_outruns_the_members_is_told_to_retry_and_nothing_it_was_told_is_lost()
    {
        var silo = _cluster.GetSiloServiceProvider();
        var held = silo.GetRequiredService<StreamBackpressureStats>();
        var applied = silo.GetRequiredService<StreamIngestStats>();
        var provider = _cluster.Client.GetStreamProvider(ScoringStreams.Provider);
        IAsyncStream<ScoringEvent> Stream(int n) => provider.GetStream<ScoringEvent>(ScoringStreams.For("default", $"bp{n % Members}"));

        // Send until refused; bounded in count (the queue must refuse within its capacity plus the bound) and time.
        var taken = 0;
        Exception? refusal = null;
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (taken <= QueueCapacity + MaxHeld + Members && DateTime.UtcNow < deadline)
        {
            try
            {
                await Stream(taken).OnNextBatchAsync([Review(taken)]);
                taken++;
            }
            catch (Exception e)
            {
                refusal = e;
                break;
            }
        }

        Assert.NotNull(refusal);
        Assert.Contains("maximum", refusal.ToString());
        Assert.InRange(taken, QueueCapacity, QueueCapacity + MaxHeld);
        Assert.InRange(held.PeakHeldPerQueue, 1, MaxHeld);
        Assert.True(held.Pressured > 0);
        Assert.Equal(0, applied.Accepted);

        // The members catch up: everything the queue took is applied, once; then the refused batch, resent, too.
        Ledger.Open.SetResult();
        await Until(() => applied.Accepted == taken, () => $"{applied.Accepted} of {taken} applied");
        await Stream(taken).OnNextBatchAsync([Review(taken)]);
        await Until(() => applied.Accepted == taken + 1, () => $"{applied.Accepted} of {taken + 1} applied");
        Assert.Equal(0, applied.Duplicates);
        Assert.Equal(0, applied.Rejected);
        Assert.Equal(0, held.DroppedUnconsumed);
        await Until(() => held.Held == 0, () => $"{held.Held} batches still held");

        var rows = 0;
        for (var m = 0; m < Members; m++)
        {
            var page = await _cluster.Client.GetGrain<IMemberGrain>(MemberKeys.Of("default", $"bp{m}")).GetLedger(QueueCapacity, null);
            rows += page!.Entries.Count(e => e.EventId is not null);
        }
        Assert.Equal(taken + 1, rows);
    }

    private static async Task Until(Func<bool> done, Func<string> state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (!done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(state());
            await Task.Delay(20);
        }
    }
}
