using System.Collections;

namespace Orleans.Membership.Domain.Collections;

/// <summary>
/// A map from string keys to value rows, in the order the keys were added, changed in place by the
/// member's own writes. Made for what a member accumulates one key at a time (caller ids, orders): the
/// keys are characters in one array, the rows values in another and an open-addressing index finds them,
/// so adding a key allocates nothing until an array is full. The arrays are native memory
/// (<see cref="RowArray{T}"/>): the collector sees four small owners whatever the map holds. Not
/// thread-safe: only the member's own activation touches it.
/// </summary>
public sealed class KeyedRows<T> : IReadOnlyCollection<KeyValuePair<string, T>> where T : unmanaged
{
    private struct Key
    {
        public int Start;
        public int Length;
        public int Hash;
    }

    private RowArray<char> _chars = RowArray<char>.Empty;
    private RowArray<Key> _keys = RowArray<Key>.Empty;
    private RowArray<T> _values = RowArray<T>.Empty;
    /// <summary>Open addressing, power-of-two length, at least twice the row capacity: 0 is empty, n is row n - 1.</summary>
    private RowArray<int> _slots = RowArray<int>.New(4);
    private int _charCount;

    public KeyedRows() { }

    private KeyedRows(RowArray<char> chars, RowArray<Key> keys, RowArray<T> values, RowArray<int> slots, int charCount, int count)
    {
        _chars = chars;
        _keys = keys;
        _values = values;
        _slots = slots;
        _charCount = charCount;
        Count = count;
    }

    public int Count { get; private set; }

    public T this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"'{key}' is not in the map");

    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    public bool TryGetValue(string key, out T value)
    {
        var index = IndexOf(key);
        value = index < 0 ? default! : _values[index];
        return index >= 0;
    }

    /// <summary>The position of <paramref name="key"/> in insertion order, or -1.</summary>
    public int IndexOf(string key)
    {
        var hash = string.GetHashCode(key.AsSpan());
        var mask = _slots.Length - 1;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            var slot = _slots[i];
            if (slot == 0) return -1;
            var k = _keys[slot - 1];
            if (k.Hash != hash) continue;
            var same = key.AsSpan().SequenceEqual(_chars.Span.Slice(k.Start, k.Length));
            GC.KeepAlive(_chars);
            if (same) return slot - 1;
        }
    }

    /// <summary>The value of the row at <paramref name="index"/> (insertion order).</summary>
    public T ValueAt(int index) => (uint)index < (uint)Count ? _values[index] : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>Adds <paramref name="key"/> at the end; a key already present is an error.</summary>
    public void Add(string key, T value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (ContainsKey(key)) throw new ArgumentException($"'{key}' is already in the map", nameof(key));
        Append(key, value);
    }

    /// <summary>Adds <paramref name="key"/>; the caller has just found it absent.</summary>
    internal void Append(string key, T value)
    {
        if (Count == _keys.Length) GrowRows(Math.Max(4, Count * 2));
        if (_charCount + key.Length > _chars.Length) _chars = _chars.Grow(_charCount, Math.Max(64, (_charCount + key.Length) * 2));
        key.CopyTo(_chars.Span[_charCount..]);
        GC.KeepAlive(_chars);
        var hash = string.GetHashCode(key.AsSpan());
        _keys[Count] = new Key { Start = _charCount, Length = key.Length, Hash = hash };
        _values[Count] = value;
        Index(Count, hash);
        _charCount += key.Length;
        Count++;
    }

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>: replaced where it is, or added at the end.</summary>
    public void SetItem(string key, T value)
    {
        ArgumentNullException.ThrowIfNull(key);
        var index = IndexOf(key);
        if (index < 0) Append(key, value);
        else _values[index] = value;
    }

    /// <summary>Takes out the key added last (undoing that add).</summary>
    public void RemoveLast()
    {
        if (Count == 0) throw new InvalidOperationException("the map is empty");
        var last = Count - 1;
        var k = _keys[last];
        // Keys added before it were placed while its slot was empty, so no probe of theirs passes it:
        // clearing the slot is exact when the last key goes first.
        var mask = _slots.Length - 1;
        var i = k.Hash & mask;
        while (_slots[i] != last + 1) i = (i + 1) & mask;
        _slots[i] = 0;
        _keys[last] = default;
        _values[last] = default;
        _charCount = k.Start;
        Count = last;
    }

    public static KeyedRows<T> From(IEnumerable<KeyValuePair<string, T>> pairs)
    {
        var map = new KeyedRows<T>();
        foreach (var (key, value) in pairs) map.Add(key, value);
        return map;
    }

    /// <summary>A map of its own with the same rows.</summary>
    public KeyedRows<T> Copy() => new(
        _chars.CopyTo(_charCount, _chars.Length), _keys.CopyTo(Count, _keys.Length), _values.CopyTo(Count, _values.Length),
        _slots.CopyTo(_slots.Length, _slots.Length), _charCount, Count);

    public IEnumerable<T> Values
    {
        get
        {
            for (var i = 0; i < Count; i++) yield return _values[i];
        }
    }

    public IEnumerator<KeyValuePair<string, T>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            var k = _keys[i];
            var text = new string(_chars.Span.Slice(k.Start, k.Length));
            GC.KeepAlive(_chars);
            yield return new(text, _values[i]);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private void Index(int index, int hash)
    {
        var mask = _slots.Length - 1;
        var i = hash & mask;
        while (_slots[i] != 0) i = (i + 1) & mask;
        _slots[i] = index + 1;
    }

    private void GrowRows(int capacity)
    {
        _keys = _keys.Grow(Count, capacity);
        _values = _values.Grow(Count, capacity);
        var slotCount = 4;
        while (slotCount < capacity * 2) slotCount *= 2;
        _slots = _slots.Renew(slotCount);
        for (var index = 0; index < Count; index++) Index(index, _keys[index].Hash);
    }
}
