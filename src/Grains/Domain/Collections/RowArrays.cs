using System.Runtime.InteropServices;

namespace Orleans.Membership.Domain.Collections;

/// <summary>
/// A fixed number of rows without references in native memory, outside the collector's heap: the storage
/// of what members accumulate one row per event (<see cref="RowList{T}"/>, <see cref="KeyedRows{T}"/>,
/// the embedded ledger's slots). One owner changes it, on one thread at a time; it grows in place when
/// full (<see cref="Grow"/>: the same small object, bigger memory). What it holds when it is collected is
/// freed by the finalizer.
/// </summary>
/// <remarks>
/// Why not arrays: a member's history grows by doubling its arrays. As ordinary arrays each new one was
/// young, and the next young collection copied it whole (most of what every young collection promoted
/// during festival ingest, and a young collection stops the process while it copies). On the pinned
/// object heap they were never young, but their allocation ran down that heap's budget and started a
/// full background collection every second or two, whose marking took the machine's two cores from
/// requests (docs/benchmarks.md, "Members' rows outside the collector's heap"). Here they cost the
/// collector nothing but the small owner object.
/// </remarks>
internal sealed unsafe class RowArray<T> where T : unmanaged
{
    private static readonly RowArray<T> EmptyArray = new(0);

    private T* _rows;
    private int _length;

    private RowArray(int length)
    {
        if (length == 0) return;
        _rows = (T*)NativeMemory.AllocZeroed((nuint)length, (nuint)sizeof(T));
        _length = length;
        RowArrays.Allocated((long)length * sizeof(T));
    }

    /// <summary>No rows (shared; nothing to free).</summary>
    public static RowArray<T> Empty => EmptyArray;

    /// <summary>A zeroed array of <paramref name="length"/> rows.</summary>
    public static RowArray<T> New(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return length == 0 ? EmptyArray : new RowArray<T>(length);
    }

    public int Length => _length;

    /// <summary>
    /// The rows; empty once freed. The memory is freed when this object is collected, so a caller that
    /// reads or writes through the span keeps this object reachable until done (<c>GC.KeepAlive</c>);
    /// the indexer and the copying methods do it themselves.
    /// </summary>
    public Span<T> Span => new(_rows, _length);

    public T this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_length) throw new ArgumentOutOfRangeException(nameof(index));
            var row = _rows[index];
            GC.KeepAlive(this);
            return row;
        }
        set
        {
            if ((uint)index >= (uint)_length) throw new ArgumentOutOfRangeException(nameof(index));
            _rows[index] = value;
            GC.KeepAlive(this);
        }
    }

    /// <summary>A new array of <paramref name="length"/> rows starting with the first <paramref name="count"/> of these; these are not freed.</summary>
    public RowArray<T> CopyTo(int count, int length)
    {
        var copy = New(length);
        Span[..Math.Min(count, length)].CopyTo(copy.Span);
        GC.KeepAlive(this);
        GC.KeepAlive(copy);
        return copy;
    }

    /// <summary>Moves <paramref name="count"/> rows from <paramref name="from"/> to <paramref name="to"/> (the ranges may overlap).</summary>
    public void Move(int from, int to, int count)
    {
        Span.Slice(from, count).CopyTo(Span.Slice(to, count));
        GC.KeepAlive(this);
    }

    /// <summary>
    /// These rows made <paramref name="length"/> long, keeping the first <paramref name="count"/> (the rest
    /// zeroed): the memory is reallocated under the same owner, which is returned (a new owner only when
    /// this is the shared empty array or was freed). The caller must hold no span of the old rows.
    /// </summary>
    /// <remarks>
    /// The owner is kept because a new one per growth was what ingest's first seconds promoted: members
    /// seeded alike grow their arrays at the same events, and each new owner was a young finalizable
    /// object referenced from an old member, found through the card table and copied by the next young
    /// collection (docs/benchmarks.md, "The first seconds of ingest").
    /// </remarks>
    public RowArray<T> Grow(int count, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (_rows is null) return New(length);
        if (length == 0)
        {
            Free();
            return EmptyArray;
        }
        var rows = (T*)NativeMemory.Realloc(_rows, (nuint)length * (nuint)sizeof(T));
        var kept = Math.Clamp(count, 0, length);
        new Span<T>(rows + kept, length - kept).Clear();
        RowArrays.Allocated((long)(length - _length) * sizeof(T));
        _rows = rows;
        _length = length;
        return this;
    }

    /// <summary>
    /// <paramref name="length"/> zeroed rows in place of these (under the same owner, as <see cref="Grow"/>):
    /// the caller must hold no span of the old rows.
    /// </summary>
    public RowArray<T> Renew(int length) => Grow(0, length);

    /// <summary>Gives the rows back; the array is empty from then on.</summary>
    public void Free()
    {
        if (ReferenceEquals(this, EmptyArray)) return;
        Release();
        GC.SuppressFinalize(this);
    }

    private void Release()
    {
        var rows = _rows;
        var bytes = (long)_length * sizeof(T);
        _rows = null;
        _length = 0;
        if (rows is null) return;
        NativeMemory.Free(rows);
        RowArrays.Allocated(-bytes);
    }

    ~RowArray() => Release();
}

/// <summary>What <see cref="RowArray{T}"/>s hold now, for the runtime diagnostics.</summary>
public static class RowArrays
{
    private static long _bytes;

    /// <summary>Bytes of rows in native memory now.</summary>
    public static long Bytes => Interlocked.Read(ref _bytes);

    internal static void Allocated(long bytes) => Interlocked.Add(ref _bytes, bytes);
}
