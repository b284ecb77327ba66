using Orleans.Membership.Domain.Collections;

namespace Orleans.Membership.Tests.Domain;

/// <summary>A member's keyed rows (orders, caller ids), changed in place: exactly a plain map in insertion order.</summary>
public sealed class KeyedRowsTests
{
    [Fact]
    public void Replacing_a_row_keeps_its_place_adding_goes_last()
    {
        var map = new KeyedRows<int>();
        map.Add("a", 1);
        map.Add("b", 2);
        map.SetItem("a", 10);
        map.SetItem("c", 3);
        Assert.Equal([new("a", 10), new("b", 2), new KeyValuePair<string, int>("c", 3)], map.ToList());
        Assert.Equal(10, map["a"]);
        Assert.Equal(2, map.IndexOf("c"));
        Assert.Throws<KeyNotFoundException>(() => map["d"]);
        Assert.Throws<ArgumentException>(() => map.Add("a", 5));
        Assert.Equal(3, map.Count);
    }

    [Fact]
    public void Random_changes_match_a_plain_map_in_insertion_order_and_a_copy_is_its_own()
    {
        var random = new Random(5);
        var map = new KeyedRows<int>();
        var plain = new List<KeyValuePair<string, int>>();
        (KeyedRows<int> Map, List<KeyValuePair<string, int>> Plain)? copy = null;
        for (var step = 0; step < 4000; step++)
        {
            // Keys of every length, so the character array and the index both grow many times.
            var key = new string('k', 1 + random.Next(12)) + random.Next(700);
            var at = plain.FindIndex(kv => kv.Key == key);
            if (at >= 0) plain[at] = new(key, step);
            else plain.Add(new(key, step));
            map.SetItem(key, step);
            if (step % 400 == 0) copy = (map.Copy(), [.. plain]);

            if (step % 25 != 0) continue;
            Assert.Equal(plain, map.ToList());
            Assert.Equal(plain.Select(kv => kv.Value), map.Values);
            foreach (var (k, v) in plain) Assert.Equal(v, map[k]);
            Assert.False(map.ContainsKey($"x{random.Next(100)}"));
            Assert.Equal(copy!.Value.Plain, copy.Value.Map.ToList());
        }
    }
}
