using System.Reflection;
using System.Text.Json;
using Orleans.Membership.Domain;
using Orleans.Membership.Domain.Ledger;

namespace Orleans.Membership.Tests.Support;

/// <summary>Ledger entries for the storage tests of both ledgers.</summary>
public static class LedgerSamples
{
    /// <summary>The engine's full JSON shape (nulls and defaults written): a field a storage form dropped
    /// shows as a difference, and lists/maps compare by content.</summary>
    public static string Full(LedgerEntry e) => JsonSerializer.Serialize(e, DomainJson.Default.LedgerEntry);

    /// <summary>An entry with every property set to something other than its default, found by reflection
    /// so a property added later is covered without touching this test.</summary>
    public static LedgerEntry Populated(long seq)
    {
        var entry = new LedgerEntry { Kind = LedgerKinds.Earn };
        var n = 0;
        foreach (var p in typeof(LedgerEntry).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            n++;
            var type = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            object value = type == typeof(string) ? $"{p.Name}-{n}"
                : type == typeof(long) ? (object)(1000L + n)
                : type == typeof(int) ? 100 + n
                : type == typeof(decimal) ? 12.34m + n
                : type == typeof(DateTimeOffset) ? new DateTimeOffset(2026, 11, 11, 10, n, 0, TimeSpan.FromHours(8))
                : type == typeof(IReadOnlyList<BucketDraw>) ? new List<BucketDraw> { new(7, 5, DateTimeOffset.UnixEpoch), new(8, 6, null) }
                : type == typeof(IReadOnlyDictionary<string, int>) ? new Dictionary<string, int> { ["orders"] = 2, ["stamps"] = -1 }
                : type == typeof(IReadOnlyList<string>) ? new List<string> { "order.paid|2026-11", "order.paid|shop=s1|2026-11-11" }
                : type == typeof(IReadOnlyList<GrowthRun>) ? new List<GrowthRun> { new(DateTimeOffset.UnixEpoch, 3, 15, "accrual"), new(DateTimeOffset.UnixEpoch.AddDays(9), 1, -5, "decline") }
                : throw new InvalidOperationException($"no sample value for {p.Name} ({p.PropertyType}): add one");
            p.SetValue(entry, value);
        }
        return entry with { Seq = seq };
    }
}
