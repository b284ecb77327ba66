using System.Collections;

namespace Orleans.Membership.Domain.Collections;

/// <summary>
/// An immutable map from string keys to value rows, in the order the keys were added, that shares its
/// storage with the map it was made from, like <see cref="RowList{T}"/>. Made for what a member
/// accumulates one key at a time (caller ids, orders): as a tree of nodes each key was several objects
/// that every young collection traced and copied; here the keys are characters in one array, the rows
/// are values in another and an open-addressing index finds them, so the whole map is four objects.
/// </summary>
/// <remarks>
/// Adding writes into the shared arrays only when no other map has added past this one (a CAS on
/// <c>Taken</c>); any other add, and every replacement, copies this map's own rows. An index slot is
/// written only from empty to a row, never cleared, and a map ignores slots naming rows at or beyond its
/// <see cref="Count"/>, so maps sharing storage never see each other's keys, and readers on other threads
/// may hold any of them.
/// </remarks>
public sealed class KeyedRows<T> : IReadOnlyCollection<KeyValuePair<string, T>>
{
    private struct Key
    {
        public int Start;
        public int Length;
        public int Hash;
    }

    private sealed class Storage(char[] chars, Key[] keys, T[] values, int[] slots, int taken)
    {
        public readonly char[] Chars = chars;
        public readonly Key[] Keys = keys;
        public readonly T[] Values = values;
        /// <summary>Open addressing, power-of-two length: 0 is empty, n is row n - 1.</summary>
        public readonly int[] Slots = slots;
        public int Taken = taken;
    }

    public static readonly KeyedRows<T> Empty = new(new Storage([], [], [], new int[4], 0), 0, 0);

    private readonly Storage _storage;
    private readonly int _charCount;

    private KeyedRows(Storage storage, int count, int charCount)
    {
        _storage = storage;
        Count = count;
        _charCount = charCount;
    }

    public int Count { get; }

    public T this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"'{key}' is not in the map");

    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    public bool TryGetValue(string key, out T value)
    {
        var index = IndexOf(key);
        value = index < 0 ? default! : _storage.Values[index];
        return index >= 0;
    }

    /// <summary>The position of <paramref name="key"/> in insertion order, or -1.</summary>
    public int IndexOf(string key)
    {
        var s = _storage;
        var hash = string.GetHashCode(key.AsSpan());
        var mask = s.Slots.Length - 1;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            var slot = Volatile.Read(ref s.Slots[i]);
            if (slot == 0) return -1;
            var index = slot - 1;
            if (index >= Count) continue; // another map's key
            ref readonly var k = ref s.Keys[index];
            if (k.Hash == hash && key.AsSpan().SequenceEqual(s.Chars.AsSpan(k.Start, k.Length))) return index;
        }
    }

    /// <summary>The value of the row at <paramref name="index"/> (insertion order).</summary>
    public T ValueAt(int index) => (uint)index < (uint)Count ? _storage.Values[index] : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>This map with <paramref name="key"/> added at the end; a key already present is an error.</summary>
    public KeyedRows<T> Add(string key, T value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (ContainsKey(key)) throw new ArgumentException($"'{key}' is already in the map", nameof(key));
        return Append(key, value);
    }

    /// <summary>This map with <paramref name="key"/> added; the caller has just found it absent.</summary>
    internal KeyedRows<T> Append(string key, T value)
    {
        var s = _storage;
        if (Count < s.Keys.Length && _charCount + key.Length <= s.Chars.Length
            && Interlocked.CompareExchange(ref s.Taken, Count + 1, Count) == Count)
        {
            Place(s, Count, _charCount, key, value);
            return new KeyedRows<T>(s, Count + 1, _charCount + key.Length);
        }
        var grown = Copy(Math.Max(4, (Count + 1) * 2), Math.Max(64, (_charCount + key.Length) * 2));
        Place(grown, Count, _charCount, key, value);
        grown.Taken = Count + 1;
        return new KeyedRows<T>(grown, Count + 1, _charCount + key.Length);
    }

    /// <summary>This map with <paramref name="key"/> set to <paramref name="value"/>: replaced in place of order, or added.</summary>
    public KeyedRows<T> SetItem(string key, T value)
    {
        ArgumentNullException.ThrowIfNull(key);
        var index = IndexOf(key);
        if (index < 0) return Append(key, value);
        var copy = Copy(Math.Max(4, _storage.Keys.Length), Math.Max(64, _storage.Chars.Length));
        copy.Values[index] = value;
        return new KeyedRows<T>(copy, Count, _charCount);
    }

    public static KeyedRows<T> From(IEnumerable<KeyValuePair<string, T>> pairs)
    {
        var map = Empty;
        foreach (var (key, value) in pairs) map = map.Add(key, value);
        return map;
    }

    public IEnumerable<T> Values
    {
        get
        {
            for (var i = 0; i < Count; i++) yield return _storage.Values[i];
        }
    }

    public IEnumerator<KeyValuePair<string, T>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            var k = _storage.Keys[i];
            yield return new(new string(_storage.Chars, k.Start, k.Length), _storage.Values[i]);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static void Place(Storage s, int index, int start, string key, T value)
    {
        key.CopyTo(0, s.Chars, start, key.Length);
        var hash = string.GetHashCode(key.AsSpan());
        s.Keys[index] = new Key { Start = start, Length = key.Length, Hash = hash };
        s.Values[index] = value;
        var mask = s.Slots.Length - 1;
        var i = hash & mask;
        // Slots naming rows only other maps can see are skipped, never reused: those maps may still be read.
        while (s.Slots[i] != 0) i = (i + 1) & mask;
        Volatile.Write(ref s.Slots[i], index + 1);
    }

    /// <summary>A new storage holding this map's rows only, with room for the given counts.</summary>
    private Storage Copy(int rowCapacity, int charCapacity)
    {
        var chars = new char[charCapacity];
        Array.Copy(_storage.Chars, chars, _charCount);
        var keys = new Key[rowCapacity];
        Array.Copy(_storage.Keys, keys, Count);
        var values = new T[rowCapacity];
        Array.Copy(_storage.Values, values, Count);
        var slotCount = 4;
        while (slotCount < rowCapacity * 2) slotCount *= 2;
        var copy = new Storage(chars, keys, values, new int[slotCount], Count);
        var mask = slotCount - 1;
        for (var index = 0; index < Count; index++)
        {
            var i = keys[index].Hash & mask;
            while (copy.Slots[i] != 0) i = (i + 1) & mask;
            copy.Slots[i] = index + 1;
        }
        return copy;
    }
}
