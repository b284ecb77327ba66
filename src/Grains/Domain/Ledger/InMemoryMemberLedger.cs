using System.Buffers;
using System.Collections.Concurrent;
using Orleans.Membership.Domain.Collections;

namespace Orleans.Membership.Domain.Ledger;

/// <summary>
/// The embedded mode's ledger: entries live in this process and die with it (nothing is durable).
/// Entries are kept as their compact JSON, not as records and strings: a busy node keeps every entry it
/// ever wrote, and as objects (six or so per entry) they were the largest share of what each young
/// collection had to trace and copy. The bytes go one after another into pages of a megabyte shared by all
/// members, and the pages are native memory (<see cref="RowArray{T}"/> of bytes), outside the collector's heap: as large-object-heap arrays
/// they cost young collections nothing, but their allocation (about 300 bytes per event, all of it kept)
/// ran down the large-object budget and started a full background collection every second or two during
/// festival ingest, whose marking took the two cores' time from requests. A member keeps only where
/// its entries are (rows in native memory too, <see cref="RowArray{T}"/>). Reads (activation replay,
/// statement pages) decode. The pages are freed when the ledger is collected; they count in
/// <see cref="RowArrays.Bytes"/>.
/// </summary>
public sealed class InMemoryMemberLedger(int pageBytes = InMemoryMemberLedger.DefaultPageBytes) : IMemberLedger
{
    /// <summary>A few thousand entries a page.</summary>
    public const int DefaultPageBytes = 1 << 20;

    /// <summary>Where one entry's bytes are: a page by its number, and a place on it.</summary>
    private readonly record struct Slot(int Page, int Offset, int Length);

    /// <summary>One member's entries: entry i has seq i + 1.</summary>
    private sealed class Entries
    {
        /// <summary>Held while the member's slots are read or written (a Lock: entering a monitor on the object took a slow path per append).</summary>
        public readonly Lock Gate = new();
        public RowArray<Slot> Slots = RowArray<Slot>.Empty;
        public int Count;

        public void Add(Slot slot)
        {
            if (Count == Slots.Length) Slots = Slots.Grow(Count, Math.Max(8, Count * 2));
            Slots[Count++] = slot;
        }
    }

    private readonly ConcurrentDictionary<string, Entries> _members = new(StringComparer.Ordinal);
    /// <summary>Taken to add a page.</summary>
    private readonly Lock _pageLock = new();
    /// <summary>
    /// Every page so far, by number. Replaced (not changed) when it grows, under the page lock and before
    /// any slot names the new page; a reader takes a member's lock after the slots it reads were written
    /// under it, so the array it then reads holds their pages.
    /// </summary>
    private RowArray<byte>[] _pages = [];
    private int _pageCount;

    /// <summary>
    /// A page that appends are filling, with its own lock. Appends pick one by their thread, so the node's
    /// workers do not queue on one lock: with a single current page (and a monitor on each member's slot
    /// list), entering those locks took a fifth of the grain path's CPU samples at 20,000 events/s
    /// (docs/benchmarks.md, "Festival batches in waves").
    /// </summary>
    private sealed class Stripe
    {
        public readonly Lock Lock = new();
        public int Page = -1;
        public int Used;
    }

    private readonly Stripe[] _stripes = Enumerable.Range(0, Math.Max(4, 2 * Environment.ProcessorCount)).Select(_ => new Stripe()).ToArray();

    /// <summary>Decodes the entry in <paramref name="slot"/>; the page stays reachable (not finalized) until the decode is done.</summary>
    private LedgerEntry Decode(Slot slot)
    {
        var page = Volatile.Read(ref _pages)[slot.Page];
        var entry = LedgerEntryJson.Decode(page.Span.Slice(slot.Offset, slot.Length));
        GC.KeepAlive(page);
        return entry;
    }

    /// <summary>The numbers of the pages a member's entries are on (each once), for tests of what pages hold.</summary>
    internal IReadOnlyList<int> PagesOf(string memberKey)
    {
        if (!_members.TryGetValue(memberKey, out var list)) return [];
        lock (list.Gate)
        {
            var slots = list.Slots.Span[..list.Count].ToArray();
            GC.KeepAlive(list.Slots);
            return slots.Select(s => s.Page).Distinct().ToList();
        }
    }

    /// <summary>A copy of page <paramref name="number"/>'s bytes, for tests of what pages hold.</summary>
    internal byte[] PageBytes(int number)
    {
        lock (_pageLock)
        {
            var page = _pages[number];
            var bytes = page.Span.ToArray();
            GC.KeepAlive(page);
            return bytes;
        }
    }

    /// <summary>This thread's encoding buffer: a batch's entries are encoded into it, then copied onto the pages.</summary>
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_encoded;

    /// <summary>A buffer grown past this by a large batch is let go after it, not kept by the thread.</summary>
    private const int KeptBufferBytes = 1 << 16;

    public Task AppendAsync(string memberKey, IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken = default)
    {
        // Encoded before any lock is taken, one after another into this thread's buffer (no array per entry).
        var encoded = t_encoded ??= new ArrayBufferWriter<byte>(4096);
        encoded.ResetWrittenCount();
        Span<int> ends = entries.Count <= 32 ? stackalloc int[entries.Count] : new int[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            LedgerEntryJson.Encode(entries[i], encoded);
            ends[i] = encoded.WrittenCount;
        }
        var bytes = encoded.WrittenSpan;
        var list = _members.GetOrAdd(memberKey, _ => new Entries());
        lock (list.Gate)
        {
            // Seqs are contiguous from 1, so the entry of seq s is at index s - 1.
            if (entries.Count > 0 && entries[0].Seq != list.Count + 1)
            {
                throw new InvalidOperationException($"ledger of '{memberKey}' is at seq {list.Count}, append starts at {entries[0].Seq}");
            }
            var stripe = _stripes[(uint)Environment.CurrentManagedThreadId % (uint)_stripes.Length];
            lock (stripe.Lock)
            {
                for (var i = 0; i < ends.Length; i++) list.Add(Store(stripe, bytes[(i == 0 ? 0 : ends[i - 1])..ends[i]]));
            }
        }
        if (encoded.Capacity > KeptBufferBytes) t_encoded = null;
        return Task.CompletedTask;
    }

    /// <summary>Copies an entry's bytes to the stripe's page (a new one when they do not fit; what was left of the old one stays unused).</summary>
    private Slot Store(Stripe stripe, ReadOnlySpan<byte> bytes)
    {
        var pages = Volatile.Read(ref _pages);
        if (stripe.Page < 0 || bytes.Length > pages[stripe.Page].Length - stripe.Used)
        {
            stripe.Page = AddPage(Math.Max(pageBytes, bytes.Length));
            stripe.Used = 0;
            pages = Volatile.Read(ref _pages);
        }
        bytes.CopyTo(pages[stripe.Page].Span.Slice(stripe.Used, bytes.Length));
        var slot = new Slot(stripe.Page, stripe.Used, bytes.Length);
        stripe.Used += bytes.Length;
        return slot;
    }

    /// <summary>A new page's number.</summary>
    private int AddPage(int length)
    {
        lock (_pageLock)
        {
            if (_pageCount == _pages.Length)
            {
                var pages = new RowArray<byte>[Math.Max(16, _pageCount * 2)];
                Array.Copy(_pages, pages, _pageCount);
                Volatile.Write(ref _pages, pages);
            }
            _pages[_pageCount] = RowArray<byte>.New(length);
            return _pageCount++;
        }
    }

    public Task<IReadOnlyList<LedgerEntry>> ReadAfterAsync(string memberKey, long afterSeq, CancellationToken cancellationToken = default)
    {
        if (!_members.TryGetValue(memberKey, out var list)) return Task.FromResult<IReadOnlyList<LedgerEntry>>([]);
        lock (list.Gate)
        {
            var from = (int)Math.Clamp(afterSeq, 0, list.Count);
            var result = new LedgerEntry[list.Count - from];
            for (var i = 0; i < result.Length; i++) result[i] = Decode(list.Slots[from + i]);
            return Task.FromResult<IReadOnlyList<LedgerEntry>>(result);
        }
    }

    public Task<IReadOnlyList<LedgerEntry>> ReadPageAsync(string memberKey, long? beforeSeq, int limit, CancellationToken cancellationToken = default)
    {
        if (!_members.TryGetValue(memberKey, out var list)) return Task.FromResult<IReadOnlyList<LedgerEntry>>([]);
        lock (list.Gate)
        {
            var end = (int)Math.Min(list.Count, (beforeSeq ?? long.MaxValue) - 1);
            var page = new List<LedgerEntry>(Math.Clamp(end, 0, limit));
            for (var i = end - 1; i >= 0 && page.Count < limit; i--) page.Add(Decode(list.Slots[i]));
            return Task.FromResult<IReadOnlyList<LedgerEntry>>(page);
        }
    }

    /// <summary>Forgets the member and zeroes its entries' bytes in the pages (the space is not reused until the process restarts).</summary>
    public Task EraseAsync(string memberKey, CancellationToken cancellationToken = default)
    {
        if (_members.TryRemove(memberKey, out var list))
        {
            lock (list.Gate)
            {
                var pages = Volatile.Read(ref _pages);
                for (var i = 0; i < list.Count; i++)
                {
                    var slot = list.Slots[i];
                    pages[slot.Page].Span.Slice(slot.Offset, slot.Length).Clear();
                }
                GC.KeepAlive(pages);
                list.Count = 0;
                list.Slots.Free();
                list.Slots = RowArray<Slot>.Empty;
            }
        }
        return Task.CompletedTask;
    }
}
