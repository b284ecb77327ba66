using System.Text.Json;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Domain;
using Orleans.Membership.Domain.Members;
using Orleans.Streams;
using static Orleans.Membership.Tests.Support.MemberHarness;

namespace Orleans.Membership.Tests.Grains;

/// <summary>Scoring events on the member's stream take the same path as events by call.</summary>
[Collection(ClusterCollection.Name)]
public sealed class StreamIngestTests(ClusterFixture fixture)
{
    private static int s_members;

    private static string NewMemberId() => $"st{Interlocked.Increment(ref s_members)}-{Guid.NewGuid():N}";

    private IMemberGrain Member(string memberId) => fixture.Grains.GetGrain<IMemberGrain>(MemberKeys.Of("default", memberId));

    private IAsyncStream<ScoringEvent> Stream(string memberId)
        => fixture.Cluster.Client.GetStreamProvider(ScoringStreams.Provider).GetStream<ScoringEvent>(ScoringStreams.For("default", memberId));

    private static readonly ScoringEvent[] History =
    [
        new("p1", "order.paid", At("2026-05-01T10:00:00+08:00"), "o1", 1200m, null),
        new("p2", "order.paid", At("2026-06-01T10:00:00+08:00"), "o2", 80.5m, null),
        new("s1", "sign-in", At("2026-06-01T09:00:00+08:00"), null, null, null),
        new("s2", "sign-in", At("2026-06-01T11:00:00+08:00"), null, null, null), // over the daily cap
        new("r1", "order.refunded", At("2026-06-03T10:00:00+08:00"), "o2", 30m, null),
        new("bad", "no-such-type", At("2026-06-03T10:00:00+08:00"), null, null, null),
    ];

    /// <summary>Waits until the member's ledger holds <paramref name="rows"/> rows (stream delivery is asynchronous).</summary>
    private async Task<LedgerPage> LedgerWhenItHas(string memberId, int rows)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var page = await Member(memberId).GetLedger(500, null);
            if (page is not null && page.Entries.Count >= rows) return page;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{memberId} has {page?.Entries.Count ?? 0} of {rows} ledger rows");
            await Task.Delay(20);
        }
    }

    /// <summary>The summary without the member id, which is all that differs between the two members.</summary>
    private async Task<MemberSummary> Summary(string memberId) => (await Member(memberId).GetSummary())! with { MemberId = "" };

    private static string Json(LedgerPage page) => JsonSerializer.Serialize(page.Entries.ToList(), DomainJson.Default.ListLedgerEntry);

    [Fact]
    public async Task Events_by_stream_make_the_same_member_as_the_same_events_by_call()
    {
        var byCall = NewMemberId();
        var byStream = NewMemberId();
        var outcomes = await Member(byCall).ApplyEvents(History);
        Assert.Equal(EventStatus.Rejected, outcomes[^1].Status);
        var expected = (await Member(byCall).GetLedger(500, null))!;

        await Stream(byStream).OnNextBatchAsync(History);

        var actual = await LedgerWhenItHas(byStream, expected.Entries.Count);
        Assert.Equal(Json(expected), Json(actual));
        Assert.Equal(await Summary(byCall), await Summary(byStream), SummaryComparer.Instance);
    }

    [Fact]
    public async Task A_redelivered_batch_is_a_no_op()
    {
        var byCall = NewMemberId();
        var byStream = NewMemberId();
        ScoringEvent marker = new("marker", "order.paid", At("2026-07-01T10:00:00+08:00"), "o9", 10m, null);
        await Member(byCall).ApplyEvents(History);
        await Member(byCall).ApplyEvents([marker]);
        var expected = (await Member(byCall).GetLedger(500, null))!;

        // The batch twice (as a provider may redeliver after a failure), then a marker: one stream is
        // delivered in order, so when the marker is in, both copies of the batch have been handled.
        await Stream(byStream).OnNextBatchAsync(History);
        await Stream(byStream).OnNextBatchAsync(History);
        await Stream(byStream).OnNextBatchAsync([marker]);

        var actual = await LedgerWhenItHas(byStream, expected.Entries.Count);
        Assert.Contains(actual.Entries, e => e.EventId == "marker");
        Assert.Equal(Json(expected), Json(actual));
        Assert.Equal(await Summary(byCall), await Summary(byStream), SummaryComparer.Instance);
    }
}
