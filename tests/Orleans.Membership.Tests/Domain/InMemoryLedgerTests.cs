using Orleans.Membership.Domain.Ledger;
using static Orleans.Membership.Tests.Support.LedgerSamples;

namespace Orleans.Membership.Tests.Domain;

/// <summary>The embedded ledger keeps entries encoded: every field must come back as it went in.</summary>
public sealed class InMemoryLedgerTests
{
    [Fact]
    public void Every_field_of_an_entry_survives_the_encoding()
    {
        var entry = Populated(seq: 1);
        var decoded = LedgerEntryJson.Decode(LedgerEntryJson.Encode(entry));
        // Compared through the engine's full JSON shape (nulls and defaults written), so a field the
        // compact encoding dropped shows as a difference, and lists/maps compare by content.
        Assert.Equal(Full(entry), Full(decoded));
        Assert.Equal(Full(new LedgerEntry { Kind = LedgerKinds.Tier }), Full(LedgerEntryJson.Decode(LedgerEntryJson.Encode(new LedgerEntry { Kind = LedgerKinds.Tier }))));
    }

    [Fact]
    public async Task Pages_and_replays_return_the_entries_by_seq()
    {
        var ledger = new InMemoryMemberLedger();
        await ledger.AppendAsync("m", [Populated(1), Populated(2)]);
        await ledger.AppendAsync("m", [Populated(3)]);
        await Assert.ThrowsAsync<InvalidOperationException>(() => ledger.AppendAsync("m", [Populated(5)]));

        Assert.Equal([2L, 3L], (await ledger.ReadAfterAsync("m", 1)).Select(e => e.Seq));
        Assert.Equal([3L, 2L], (await ledger.ReadPageAsync("m", null, 2)).Select(e => e.Seq));
        Assert.Equal([1L], (await ledger.ReadPageAsync("m", 2, 10)).Select(e => e.Seq));
        Assert.Equal(Full(Populated(3)), Full((await ledger.ReadAfterAsync("m", 2)).Single()));
        Assert.Empty(await ledger.ReadAfterAsync("other", 0));

        await ledger.EraseAsync("m");
        Assert.Empty(await ledger.ReadPageAsync("m", null, 10));
        await ledger.AppendAsync("m", [Populated(1)]);
        Assert.Single(await ledger.ReadAfterAsync("m", 0));
    }
}
