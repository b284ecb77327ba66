using System.Collections;

namespace Orleans.Membership.Domain.Collections;

/// <summary>
/// A member's rows of one kind (growth records, point buckets) in one growable array, changed in place by
/// the member's own writes. With value rows the array holds the rows themselves, so a member's history
/// is one object for the collector whatever its length, and a write that appends a row allocates nothing
/// (unless the array is full). The rows are in native memory (<see cref="RowArray{T}"/>). Not thread-safe: only the member's own activation touches it.
/// </summary>
/// <remarks>
/// <see cref="Edits"/> counts every change other than an append, so a reader that remembers how many
/// rows it read and the count it saw can tell whether those rows are still exactly as it read them
/// (<see cref="Members.TierCursor"/> resumes tier evaluations that way).
/// </remarks>
public sealed class RowList<T> : IReadOnlyList<T> where T : unmanaged
{
    private RowArray<T> _items;

    public RowList() => _items = RowArray<T>.Empty;

    private RowList(RowArray<T> items, int count)
    {
        _items = items;
        Count = count;
    }

    public int Count { get; private set; }

    /// <summary>Changes other than appends (replacements, inserts before the end, removals) made so far.</summary>
    public long Edits { get; private set; }

    public T this[int index]
    {
        get => (uint)index < (uint)Count ? _items[index] : throw new ArgumentOutOfRangeException(nameof(index));
        set
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
            _items[index] = value;
            Edits++;
        }
    }

    public static RowList<T> From(IEnumerable<T> rows)
    {
        var list = new RowList<T>();
        foreach (var row in rows) list.Add(row);
        return list;
    }

    /// <summary>A list of its own with the same rows.</summary>
    public RowList<T> Copy() => new(_items.CopyTo(Count, _items.Length), Count);

    public void Add(T row)
    {
        if (Count == _items.Length) Grow();
        _items[Count++] = row;
    }

    /// <summary>Puts <paramref name="row"/> at <paramref name="index"/> (0..Count), the rows from there on after it.</summary>
    public void Insert(int index, T row)
    {
        if ((uint)index > (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
        if (index == Count)
        {
            Add(row);
            return;
        }
        if (Count == _items.Length) Grow();
        _items.Move(index, index + 1, Count - index);
        _items[index] = row;
        Count++;
        Edits++;
    }

    /// <summary>Takes out the row at <paramref name="index"/>, the rows after it moving up (an edit).</summary>
    public void RemoveAt(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
        Count--;
        _items.Move(index + 1, index, Count - index);
        _items[Count] = default;
        Edits++;
    }

    /// <summary>Takes out the last row (an edit: a reader may have read it).</summary>
    public void RemoveLast() => RemoveAt(Count - 1);

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

    private void Grow() => _items = _items.Grow(Count, Math.Max(4, _items.Length * 2));

    public Enumerator GetEnumerator() => new(this);
    IEnumerator<T> IEnumerable<T>.GetEnumerator() => GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public struct Enumerator(RowList<T> list) : IEnumerator<T>
    {
        private int _index = -1;
        public readonly T Current => list._items[_index];
        readonly object IEnumerator.Current => Current!;
        public bool MoveNext() => ++_index < list.Count;
        public void Reset() => _index = -1;
        public readonly void Dispose() { }
    }
}
