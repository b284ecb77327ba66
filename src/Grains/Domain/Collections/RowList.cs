using System.Collections;

namespace Orleans.Membership.Domain.Collections;

/// <summary>
/// An immutable list of rows that shares its storage with the list it was made from. Adding at the end
/// writes into the shared array when no other list has taken that slot yet; every other change copies.
/// A list reads only its own first <see cref="Count"/> slots, so lists sharing storage never see each
/// other's rows, and readers on other threads may hold any of them. Made for a member's history: a
/// write almost always appends one row, and copying the whole history for it was most of the garbage
/// a busy node made. With value rows (a member's growth and buckets) the array holds the rows themselves,
/// so a member's history is one object for the collector, not one per row.
/// </summary>
public sealed class RowList<T> : IReadOnlyList<T>
{
    private sealed class Storage(T[] items, int taken)
    {
        public readonly T[] Items = items;
        /// <summary>Slots some list has written: a list may append in place only at this index.</summary>
        public int Taken = taken;
    }

    public static readonly RowList<T> Empty = new(new Storage([], 0), 0);

    private readonly Storage _storage;

    private RowList(Storage storage, int count)
    {
        _storage = storage;
        Count = count;
    }

    public int Count { get; }

    public T this[int index] => (uint)index < (uint)Count ? _storage.Items[index] : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>
    /// True when this list's first <paramref name="count"/> rows are <paramref name="other"/>'s: the same
    /// storage (rows below a list's count are never rewritten in place) and both long enough.
    /// </summary>
    public bool StartsWith(RowList<T> other, int count)
        => ReferenceEquals(_storage, other._storage) && count <= Count && count <= other.Count;

    public static RowList<T> From(IEnumerable<T> rows)
    {
        var items = rows.ToArray();
        return items.Length == 0 ? Empty : new RowList<T>(new Storage(items, items.Length), items.Length);
    }

    /// <summary>This list with <paramref name="row"/> at the end.</summary>
    public RowList<T> Add(T row)
    {
        var items = _storage.Items;
        if (Count < items.Length && Interlocked.CompareExchange(ref _storage.Taken, Count + 1, Count) == Count)
        {
            items[Count] = row;
            return new RowList<T>(_storage, Count + 1);
        }
        var grown = new T[Math.Max(4, Count * 2)];
        Array.Copy(items, grown, Count);
        grown[Count] = row;
        return new RowList<T>(new Storage(grown, Count + 1), Count + 1);
    }

    /// <summary>This list with <paramref name="row"/> at <paramref name="index"/> (0..Count), the rows from there on after it.</summary>
    public RowList<T> Insert(int index, T row)
    {
        if ((uint)index > (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
        if (index == Count) return Add(row);
        var items = new T[Math.Max(4, Count * 2)];
        Array.Copy(_storage.Items, items, index);
        items[index] = row;
        Array.Copy(_storage.Items, index, items, index + 1, Count - index);
        return new RowList<T>(new Storage(items, Count + 1), Count + 1);
    }

    /// <summary>This list with the row at <paramref name="index"/> replaced.</summary>
    public RowList<T> SetItem(int index, T row)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
        var items = new T[Math.Max(4, Count + Count / 2)];
        Array.Copy(_storage.Items, items, Count);
        items[index] = row;
        return new RowList<T>(new Storage(items, Count), Count);
    }

    /// <summary>The first row that matches, if any.</summary>
    public bool TryFind(Predicate<T> match, out T row)
    {
        foreach (var candidate in this)
        {
            if (!match(candidate)) continue;
            row = candidate;
            return true;
        }
        row = default!;
        return false;
    }

    public Enumerator GetEnumerator() => new(this);
    IEnumerator<T> IEnumerable<T>.GetEnumerator() => GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public struct Enumerator(RowList<T> list) : IEnumerator<T>
    {
        private int _index = -1;
        public readonly T Current => list._storage.Items[_index];
        readonly object IEnumerator.Current => Current!;
        public bool MoveNext() => ++_index < list.Count;
        public void Reset() => _index = -1;
        public readonly void Dispose() { }
    }
}
