using Orleans.Membership.Domain.Collections;

namespace Orleans.Membership.Tests.Domain;

/// <summary>A member's rows, changed in place: they must behave exactly like a plain list, and count every change but an append.</summary>
public sealed class RowListTests
{
    private readonly record struct Row(int Value);

    private static int[] Values(RowList<Row> list) => list.Select(r => r.Value).ToArray();

    [Fact]
    public void Appends_are_not_edits_replacements_inserts_before_the_end_and_removals_are()
    {
        var list = RowList<Row>.From([new Row(1), new Row(2), new Row(3)]);
        list.Add(new Row(4));
        list.Insert(4, new Row(5)); // at the end: an append
        Assert.Equal(0, list.Edits);
        list[1] = new Row(9);
        Assert.Equal(1, list.Edits);
        list.Insert(0, new Row(0));
        Assert.Equal(2, list.Edits);
        Assert.Equal([0, 1, 9, 3, 4, 5], Values(list));
        Assert.Throws<ArgumentOutOfRangeException>(() => list[6]);
        Assert.Throws<ArgumentOutOfRangeException>(() => list.Insert(7, new Row(7)));
        Assert.Throws<ArgumentOutOfRangeException>(() => list[6] = new Row(6));
        Assert.Equal(2, list.Edits);
        list.RemoveLast();
        Assert.Equal(3, list.Edits);
        Assert.Equal([0, 1, 9, 3, 4], Values(list));
    }

    [Fact]
    public void Random_changes_match_a_plain_list_and_a_copy_is_its_own()
    {
        var random = new Random(7);
        var list = new RowList<Row>();
        var plain = new List<int>();
        (RowList<Row> List, int[] Plain)? copy = null;
        for (var step = 0; step < 5000; step++)
        {
            var v = random.Next(1000);
            var edits = list.Edits;
            switch (plain.Count == 0 ? 0 : random.Next(4))
            {
                case 3:
                    var gone = random.Next(plain.Count);
                    list.RemoveAt(gone);
                    plain.RemoveAt(gone);
                    Assert.Equal(edits + 1, list.Edits);
                    break;
                case 0:
                    list.Add(new Row(v));
                    plain.Add(v);
                    Assert.Equal(edits, list.Edits);
                    break;
                case 1:
                    var i = random.Next(plain.Count);
                    list[i] = new Row(v);
                    plain[i] = v;
                    Assert.Equal(edits + 1, list.Edits);
                    break;
                default:
                    var at = random.Next(plain.Count + 1);
                    list.Insert(at, new Row(v));
                    plain.Insert(at, v);
                    Assert.Equal(at == plain.Count - 1 ? edits : edits + 1, list.Edits);
                    break;
            }
            Assert.Equal(plain, Values(list));
            if (step % 500 == 0) copy = (list.Copy(), plain.ToArray());
            Assert.Equal(copy!.Value.Plain, Values(copy.Value.List));
        }
    }
}
