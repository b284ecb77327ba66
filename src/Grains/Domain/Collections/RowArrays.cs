using System.Runtime.CompilerServices;

namespace Orleans.Membership.Domain.Collections;

/// <summary>
/// Where a member's row arrays are allocated. Arrays of rows without references go on the pinned-object
/// heap, which belongs to the old generation: an array that grows while ingest runs is never young, so
/// young collections neither copy it nor, when it is replaced, copy its successor (a member's history
/// arrays were most of what they promoted: tools/GcCensus, docs/benchmarks.md). The arrays are never
/// pinned by anyone; the heap is just where they start old. The cost is that an outgrown array is freed
/// only by a full collection, which the server GC runs in the background.
/// </summary>
internal static class RowArrays
{
    /// <summary>An array of <paramref name="length"/> rows holding the first <paramref name="count"/> of <paramref name="old"/>.</summary>
    public static T[] Grow<T>(T[] old, int count, int length)
    {
        var grown = RuntimeHelpers.IsReferenceOrContainsReferences<T>() ? new T[length] : GC.AllocateArray<T>(length, pinned: true);
        Array.Copy(old, grown, count);
        return grown;
    }
}
