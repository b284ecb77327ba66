using Orleans.Membership.Domain.Collections;

namespace Orleans.Membership.Tests.Domain;

/// <summary>A member's rows are shared between versions of its state: no version may ever see another's change.</summary>
public sealed class RowListTests
{
    private sealed record Row(int Value);

    private static int[] Values(RowList<Row> list) => list.Select(r => r.Value).ToArray();

    [Fact]
    public void Two_lists_appending_to_the_same_base_keep_their_own_rows()
    {
        var baseList = RowList<Row>.Empty.Add(new Row(1)).Add(new Row(2)).Add(new Row(3));
        var a = baseList.Add(new Row(10));
        var b = baseList.Add(new Row(20)); // the slot a took is not b's to write
        Assert.Equal([1, 2, 3], Values(baseList));
        Assert.Equal([1, 2, 3, 10], Values(a));
        Assert.Equal([1, 2, 3, 20], Values(b));
        Assert.Equal([1, 2, 3, 10, 11], Values(a.Add(new Row(11))));
        Assert.Equal([1, 2, 3, 20, 21], Values(b.Add(new Row(21))));
    }

    [Fact]
    public void Replacing_or_inserting_never_changes_the_list_it_came_from()
    {
        var baseList = RowList<Row>.From([new Row(1), new Row(2), new Row(3)]);
        var set = baseList.SetItem(1, new Row(9));
        var inserted = baseList.Insert(0, new Row(0));
        var appended = baseList.Insert(3, new Row(4));
        Assert.Equal([1, 2, 3], Values(baseList));
        Assert.Equal([1, 9, 3], Values(set));
        Assert.Equal([0, 1, 2, 3], Values(inserted));
        Assert.Equal([1, 2, 3, 4], Values(appended));
        Assert.Throws<ArgumentOutOfRangeException>(() => baseList[3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => baseList.Insert(4, new Row(5)));
    }

    [Fact]
    public void Random_histories_match_plain_lists()
    {
        var random = new Random(7);
        var versions = new List<(RowList<Row> Shared, List<int> Plain)> { (RowList<Row>.Empty, []) };
        for (var step = 0; step < 5000; step++)
        {
            // Any earlier version may be written again, as a failed write leaves the last durable one.
            var (shared, plain) = versions[random.Next(versions.Count)];
            var v = random.Next(1000);
            var op = plain.Count == 0 ? 0 : random.Next(3);
            (RowList<Row>, List<int>) next = op switch
            {
                0 => (shared.Add(new Row(v)), [.. plain, v]),
                1 => SetAt(shared, plain, random.Next(plain.Count), v),
                _ => InsertAt(shared, plain, random.Next(plain.Count + 1), v),
            };
            versions.Add(next);
            if (versions.Count > 50) versions.RemoveAt(random.Next(versions.Count));
            foreach (var (s, p) in versions) Assert.Equal(p, Values(s));
        }

        static (RowList<Row>, List<int>) SetAt(RowList<Row> s, List<int> p, int i, int v)
        {
            var copy = new List<int>(p) { [i] = v };
            return (s.SetItem(i, new Row(v)), copy);
        }

        static (RowList<Row>, List<int>) InsertAt(RowList<Row> s, List<int> p, int i, int v)
        {
            var copy = new List<int>(p);
            copy.Insert(i, v);
            return (s.Insert(i, new Row(v)), copy);
        }
    }
}
