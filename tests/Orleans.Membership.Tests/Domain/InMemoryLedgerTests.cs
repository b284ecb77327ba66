using System.Reflection;
using System.Text.Json;
using Orleans.Membership.Domain;
using Orleans.Membership.Domain.Ledger;

namespace Orleans.Membership.Tests.Domain;

/// <summary>The embedded ledger keeps entries encoded: every field must come back as it went in.</summary>
public sealed class InMemoryLedgerTests
{
    [Fact]
    public void Every_field_of_an_entry_survives_the_encoding()
    {
        var entry = Populated(seq: 1);
        var decoded = InMemoryMemberLedger.Decode(InMemoryMemberLedger.Encode(entry));
        // Compared through the engine's full JSON shape (nulls and defaults written), so a field the
        // compact encoding dropped shows as a difference, and lists/maps compare by content.
        Assert.Equal(Full(entry), Full(decoded));
        Assert.Equal(Full(new LedgerEntry { Kind = LedgerKinds.Tier }), Full(InMemoryMemberLedger.Decode(InMemoryMemberLedger.Encode(new LedgerEntry { Kind = LedgerKinds.Tier }))));
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

    private static string Full(LedgerEntry e) => JsonSerializer.Serialize(e, DomainJson.Default.LedgerEntry);

    /// <summary>An entry with every property set to something other than its default, found by reflection
    /// so a property added later is covered without touching this test.</summary>
    private static LedgerEntry Populated(long seq)
    {
        var entry = new LedgerEntry { Kind = LedgerKinds.Earn };
        var n = 0;
        foreach (var p in typeof(LedgerEntry).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            n++;
            var type = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            object value = type == typeof(string) ? $"{p.Name}-{n}"
                : type == typeof(long) ? (object)(1000L + n)
                : type == typeof(decimal) ? 12.34m + n
                : type == typeof(DateTimeOffset) ? new DateTimeOffset(2026, 11, 11, 10, n, 0, TimeSpan.FromHours(8))
                : type == typeof(IReadOnlyList<BucketDraw>) ? new List<BucketDraw> { new(7, 5, DateTimeOffset.UnixEpoch), new(8, 6, null) }
                : type == typeof(IReadOnlyDictionary<string, int>) ? new Dictionary<string, int> { ["orders"] = 2, ["stamps"] = -1 }
                : throw new InvalidOperationException($"no sample value for {p.Name} ({p.PropertyType}): add one");
            p.SetValue(entry, value);
        }
        return entry with { Seq = seq };
    }
}
