using Microsoft.Extensions.Configuration;
using Orleans.Membership.Silo;

namespace Orleans.Membership.Tests.Api;

public sealed class PacedYoungCollectionsTests
{
    private static PacedYoungCollections With(string? everyMs) => new(new ConfigurationBuilder()
        .AddInMemoryCollection(everyMs is null ? [] : [new("Membership:Gc:YoungCollectionEveryMs", everyMs)])
        .Build());

    [Fact]
    public async Task With_no_young_collection_for_a_period_it_asks_for_one()
    {
        using var paced = With("20");
        var before = GC.CollectionCount(0);
        await paced.StartAsync(CancellationToken.None);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (paced.Requested < 3 && DateTime.UtcNow < deadline) await Task.Delay(10);
            Assert.True(paced.Requested >= 3, $"asked for {paced.Requested} young collections in 30 s at one per 20 ms");
            Assert.True(GC.CollectionCount(0) - before >= paced.Requested);
        }
        finally
        {
            await paced.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public void It_paces_by_default_and_zero_turns_it_off()
    {
        Assert.True(With(null).Paces);
        Assert.False(With("0").Paces);
        Assert.True(With("250").Paces);
    }

    [Fact]
    public void A_negative_period_is_refused_by_name()
    {
        var e = Assert.Throws<InvalidOperationException>(() => With("-5"));
        Assert.Contains("Membership:Gc:YoungCollectionEveryMs", e.Message);
    }
}
