using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Tests.Domain;

public sealed class KeyFilterTests
{
    [Theory]
    [InlineData(5)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(2_000)]
    public void Every_key_added_is_a_maybe_and_few_others_are(int keys)
    {
        var filter = new KeyFilter();
        for (var i = 0; i < keys; i++) filter.Add($"order-{i}");

        for (var i = 0; i < keys; i++) Assert.True(filter.MayContain($"order-{i}"), $"order-{i}");
        var wrong = Enumerable.Range(0, 100_000).Count(i => filter.MayContain($"other-{i}"));
        // About 1 in 250 by design; a tenth of that margin left to the hash.
        Assert.InRange(wrong, 0, 100_000 / 100);
    }

    [Fact]
    public void An_empty_filter_says_no()
    {
        Assert.False(new KeyFilter().MayContain("anything"));
    }
}
