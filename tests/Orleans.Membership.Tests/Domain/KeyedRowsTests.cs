using Orleans.Membership.Domain.Collections;

namespace Orleans.Membership.Tests.Domain;

/// <summary>A member's keyed rows (orders, caller ids) are shared between versions of its state.</summary>
public sealed class KeyedRowsTests
{
    [Fact]
    public void Replacing_a_row_never_changes_the_map_it_came_from()
    {
        var map = KeyedRows<int>.Empty.Add("a", 1).Add("b", 2);
        var replaced = map.SetItem("a", 10);
        var added = map.SetItem("c", 3);
        Assert.Equal([new("a", 1), new("b", 2)], map.ToList());
        Assert.Equal([new("a", 10), new("b", 2)], replaced.ToList());
        Assert.Equal([new("a", 1), new("b", 2), new KeyValuePair<string, int>("c", 3)], added.ToList());
        Assert.Equal(10, replaced["a"]);
        Assert.Throws<KeyNotFoundException>(() => map["c"]);
        Assert.Throws<ArgumentException>(() => map.Add("a", 5));
    }

    [Fact]
    public void Random_histories_match_plain_maps_in_insertion_order()
    {
        var random = new Random(5);
        var versions = new List<(KeyedRows<int> Map, List<KeyValuePair<string, int>> Plain)> { (KeyedRows<int>.Empty, []) };
        for (var step = 0; step < 4000; step++)
        {
            // Any earlier version may be written again, as a failed write leaves the last durable one.
            var (map, plain) = versions[random.Next(versions.Count)];
            var key = $"k{random.Next(300)}";
            var next = new List<KeyValuePair<string, int>>(plain);
            var at = next.FindIndex(kv => kv.Key == key);
            if (at >= 0) next[at] = new(key, step);
            else next.Add(new(key, step));
            versions.Add((map.SetItem(key, step), next));
            if (versions.Count > 40) versions.RemoveAt(random.Next(versions.Count));

            if (step % 25 != 0) continue;
            foreach (var (m, p) in versions)
            {
                Assert.Equal(p, m.ToList());
                Assert.Equal(p.Select(kv => kv.Value), m.Values);
                foreach (var (k, v) in p) Assert.Equal(v, m[k]);
                Assert.False(m.ContainsKey($"k{300 + random.Next(100)}"));
            }
        }
    }
}
