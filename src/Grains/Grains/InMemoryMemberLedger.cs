using System.Buffers;
using System.Collections.Concurrent;
using Orleans.Membership.Domain.Ledger;

namespace Orleans.Membership.Grains;

/// <summary>
/// The embedded mode's ledger: entries live in this process and die with it (nothing is durable). Each
/// entry is kept as its compact JSON in pages of a megabyte shared by all members: arrays without
/// references on the large-object heap, which young collections never copy or scan, instead of a handful
/// of objects per entry that every collection would trace. A member keeps where its entries are.
/// </summary>
public sealed class InMemoryMemberLedger(int pageBytes = InMemoryMemberLedger.DefaultPageBytes) : IMemberLedger
{
    public const int DefaultPageBytes = 1 << 20;

    /// <summary>Where one entry's bytes are: a page by its number, and a place on it.</summary>
    private readonly record struct Slot(int Page, int Offset, int Length);

    /// <summary>One member's entries: entry i has seq i + 1.</summary>
    private sealed class Entries
    {
        public readonly Lock Gate = new();
        public readonly List<Slot> Slots = [];
    }

    private readonly ConcurrentDictionary<string, Entries> _members = new(StringComparer.Ordinal);
    private readonly Lock _pageLock = new();
    /// <summary>Every page so far, by number; replaced (not changed) when it grows, under the page lock.</summary>
    private byte[][] _pages = [];
    private int _pageCount;

    /// <summary>
    /// A page that appends are filling, with its own lock. Appends pick one by their thread, so the node's
    /// workers do not queue on one lock.
    /// </summary>
    private sealed class Stripe
    {
        public readonly Lock Lock = new();
        public int Page = -1;
        public int Used;
    }

    private readonly Stripe[] _stripes = Enumerable.Range(0, Math.Max(4, 2 * Environment.ProcessorCount)).Select(_ => new Stripe()).ToArray();

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_encoded;

    public Task AppendAsync(string memberKey, IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken = default)
    {
        // Encoded before any lock is taken, one after another into this thread's buffer.
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
            if (entries.Count > 0 && entries[0].Seq != list.Slots.Count + 1)
            {
                throw new InvalidOperationException($"ledger of '{memberKey}' is at seq {list.Slots.Count}, append starts at {entries[0].Seq}");
            }
            var stripe = _stripes[(uint)Environment.CurrentManagedThreadId % (uint)_stripes.Length];
            lock (stripe.Lock)
            {
                for (var i = 0; i < ends.Length; i++) list.Slots.Add(Store(stripe, bytes[(i == 0 ? 0 : ends[i - 1])..ends[i]]));
            }
        }
        if (encoded.Capacity > 1 << 16) t_encoded = null;
        return Task.CompletedTask;
    }

    /// <summary>Copies an entry's bytes to the stripe's page (a new one when they do not fit).</summary>
    private Slot Store(Stripe stripe, ReadOnlySpan<byte> bytes)
    {
        var pages = Volatile.Read(ref _pages);
        if (stripe.Page < 0 || bytes.Length > pages[stripe.Page].Length - stripe.Used)
        {
            stripe.Page = AddPage(Math.Max(pageBytes, bytes.Length));
            stripe.Used = 0;
            pages = Volatile.Read(ref _pages);
        }
        bytes.CopyTo(pages[stripe.Page].AsSpan(stripe.Used));
        var slot = new Slot(stripe.Page, stripe.Used, bytes.Length);
        stripe.Used += bytes.Length;
        return slot;
    }

    private int AddPage(int length)
    {
        lock (_pageLock)
        {
            if (_pageCount == _pages.Length)
            {
                var pages = new byte[Math.Max(16, _pageCount * 2)][];
                Array.Copy(_pages, pages, _pageCount);
                Volatile.Write(ref _pages, pages);
            }
            _pages[_pageCount] = new byte[length];
            return _pageCount++;
        }
    }

    /// <summary>The numbers of the pages a member's entries are on (each once), for tests of what pages hold.</summary>
    internal IReadOnlyList<int> PagesOf(string memberKey)
    {
        if (!_members.TryGetValue(memberKey, out var list)) return [];
        lock (list.Gate) return list.Slots.Select(s => s.Page).Distinct().ToList();
    }

    /// <summary>A copy of page <paramref name="number"/>'s bytes, for tests of what pages hold.</summary>
    internal byte[] PageBytes(int number)
    {
        lock (_pageLock) return (byte[])_pages[number].Clone();
    }

    private LedgerEntry Decode(Slot slot) => LedgerEntryJson.Decode(Volatile.Read(ref _pages)[slot.Page].AsSpan(slot.Offset, slot.Length));

    public Task<IReadOnlyList<LedgerEntry>> ReadAfterAsync(string memberKey, long afterSeq, CancellationToken cancellationToken = default)
    {
        if (!_members.TryGetValue(memberKey, out var list)) return Task.FromResult<IReadOnlyList<LedgerEntry>>([]);
        lock (list.Gate)
        {
            var from = (int)Math.Clamp(afterSeq, 0, list.Slots.Count);
            var result = new LedgerEntry[list.Slots.Count - from];
            for (var i = 0; i < result.Length; i++) result[i] = Decode(list.Slots[from + i]);
            return Task.FromResult<IReadOnlyList<LedgerEntry>>(result);
        }
    }

    public Task<IReadOnlyList<LedgerEntry>> ReadPageAsync(string memberKey, long? beforeSeq, int limit, CancellationToken cancellationToken = default)
    {
        if (!_members.TryGetValue(memberKey, out var list)) return Task.FromResult<IReadOnlyList<LedgerEntry>>([]);
        lock (list.Gate)
        {
            var end = (int)Math.Min(list.Slots.Count, (beforeSeq ?? long.MaxValue) - 1);
            var page = new List<LedgerEntry>(Math.Clamp(end, 0, limit));
            for (var i = end - 1; i >= 0 && page.Count < limit; i--) page.Add(Decode(list.Slots[i]));
            return Task.FromResult<IReadOnlyList<LedgerEntry>>(page);
        }
    }

    /// <summary>Newest first: the ids asked about are mostly retries of recent writes.</summary>
    public Task<IReadOnlyList<LedgerEntry>> FindAsync(string memberKey, IReadOnlyCollection<string> callerIds, CancellationToken cancellationToken = default)
    {
        if (callerIds.Count == 0 || !_members.TryGetValue(memberKey, out var list)) return Task.FromResult<IReadOnlyList<LedgerEntry>>([]);
        var wanted = new HashSet<string>(callerIds, StringComparer.Ordinal);
        var found = new List<LedgerEntry>();
        lock (list.Gate)
        {
            for (var i = list.Slots.Count - 1; i >= 0 && wanted.Count > 0; i--)
            {
                var e = Decode(list.Slots[i]);
                if (e.EventId is { } id && wanted.Remove(id)) found.Add(e);
            }
        }
        return Task.FromResult<IReadOnlyList<LedgerEntry>>(found);
    }

    public Task<IReadOnlyList<LedgerEntry>> FindOrdersAsync(string memberKey, IReadOnlyCollection<string> orderIds, CancellationToken cancellationToken = default)
    {
        if (orderIds.Count == 0 || !_members.TryGetValue(memberKey, out var list)) return Task.FromResult<IReadOnlyList<LedgerEntry>>([]);
        var wanted = new HashSet<string>(orderIds, StringComparer.Ordinal);
        var found = new List<LedgerEntry>();
        lock (list.Gate)
        {
            foreach (var slot in list.Slots)
            {
                var e = Decode(slot);
                if (e.OrderId is { } id && e.Kind is LedgerKinds.Earn or LedgerKinds.Clawback && wanted.Contains(id)) found.Add(e);
            }
        }
        return Task.FromResult<IReadOnlyList<LedgerEntry>>(found);
    }

    /// <summary>Forgets the member and zeroes its entries' bytes (the space is not reused until the process restarts).</summary>
    public Task EraseAsync(string memberKey, CancellationToken cancellationToken = default)
    {
        if (_members.TryRemove(memberKey, out var list))
        {
            lock (list.Gate)
            {
                var pages = Volatile.Read(ref _pages);
                foreach (var slot in list.Slots) pages[slot.Page].AsSpan(slot.Offset, slot.Length).Clear();
                list.Slots.Clear();
            }
        }
        return Task.CompletedTask;
    }
}
