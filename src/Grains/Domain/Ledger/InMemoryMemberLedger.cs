using System.Collections.Concurrent;

namespace Orleans.Membership.Domain.Ledger;

/// <summary>
/// The embedded mode's ledger: entries live in this process and die with it (nothing is durable).
/// Entries are kept as their compact JSON, not as records and strings: a busy node keeps every entry it
/// ever wrote, and as objects (six or so per entry) they were the largest share of what each young
/// collection had to trace and copy. The bytes go one after another into pages of a megabyte shared by all
/// members: a page is on the large-object heap, which young collections neither trace nor copy, so an
/// appended entry costs them nothing (a member's own growing array did: each doubling was a new young
/// array to copy, about twice the entry's bytes). A member keeps only where its entries are.
/// Reads (activation replay, statement pages) decode.
/// </summary>
public sealed class InMemoryMemberLedger(int pageBytes = InMemoryMemberLedger.DefaultPageBytes) : IMemberLedger
{
    /// <summary>Over the large-object threshold (85,000 bytes), and a few hundred entries a page.</summary>
    public const int DefaultPageBytes = 1 << 20;

    /// <summary>Where one entry's bytes are.</summary>
    private readonly record struct Slot(byte[] Page, int Offset, int Length)
    {
        public ReadOnlySpan<byte> Bytes => Page.AsSpan(Offset, Length);
    }

    /// <summary>One member's entries: entry i has seq i + 1.</summary>
    private sealed class Entries
    {
        public Slot[] Slots = [];
        public int Count;

        public void Add(Slot slot)
        {
            if (Count == Slots.Length) Array.Resize(ref Slots, Math.Max(8, Count * 2));
            Slots[Count++] = slot;
        }
    }

    private readonly ConcurrentDictionary<string, Entries> _members = new(StringComparer.Ordinal);
    private readonly Lock _pageLock = new();
    private byte[] _page = [];
    private int _pageUsed;

    /// <summary>The pages a member's entries are on (each once), for tests of what pages hold.</summary>
    internal IReadOnlyList<byte[]> PagesOf(string memberKey)
    {
        if (!_members.TryGetValue(memberKey, out var list)) return [];
        lock (list) return list.Slots.Take(list.Count).Select(s => s.Page).Distinct(ReferenceEqualityComparer.Instance).Cast<byte[]>().ToList();
    }

    public Task AppendAsync(string memberKey, IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken = default)
    {
        var encoded = new byte[entries.Count][];
        for (var i = 0; i < encoded.Length; i++) encoded[i] = LedgerEntryJson.Encode(entries[i]);
        var list = _members.GetOrAdd(memberKey, _ => new Entries());
        lock (list)
        {
            // Seqs are contiguous from 1, so the entry of seq s is at index s - 1.
            if (entries.Count > 0 && entries[0].Seq != list.Count + 1)
            {
                throw new InvalidOperationException($"ledger of '{memberKey}' is at seq {list.Count}, append starts at {entries[0].Seq}");
            }
            lock (_pageLock)
            {
                foreach (var e in encoded) list.Add(Store(e));
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>Copies an entry's bytes to the current page (a new one when they do not fit; what was left of the old one stays unused).</summary>
    private Slot Store(byte[] bytes)
    {
        if (bytes.Length > _page.Length - _pageUsed)
        {
            _page = new byte[Math.Max(pageBytes, bytes.Length)];
            _pageUsed = 0;
        }
        bytes.CopyTo(_page, _pageUsed);
        var slot = new Slot(_page, _pageUsed, bytes.Length);
        _pageUsed += bytes.Length;
        return slot;
    }

    public Task<IReadOnlyList<LedgerEntry>> ReadAfterAsync(string memberKey, long afterSeq, CancellationToken cancellationToken = default)
    {
        if (!_members.TryGetValue(memberKey, out var list)) return Task.FromResult<IReadOnlyList<LedgerEntry>>([]);
        lock (list)
        {
            var from = (int)Math.Clamp(afterSeq, 0, list.Count);
            var result = new LedgerEntry[list.Count - from];
            for (var i = 0; i < result.Length; i++) result[i] = LedgerEntryJson.Decode(list.Slots[from + i].Bytes);
            return Task.FromResult<IReadOnlyList<LedgerEntry>>(result);
        }
    }

    public Task<IReadOnlyList<LedgerEntry>> ReadPageAsync(string memberKey, long? beforeSeq, int limit, CancellationToken cancellationToken = default)
    {
        if (!_members.TryGetValue(memberKey, out var list)) return Task.FromResult<IReadOnlyList<LedgerEntry>>([]);
        lock (list)
        {
            var end = (int)Math.Min(list.Count, (beforeSeq ?? long.MaxValue) - 1);
            var page = new List<LedgerEntry>(Math.Clamp(end, 0, limit));
            for (var i = end - 1; i >= 0 && page.Count < limit; i--) page.Add(LedgerEntryJson.Decode(list.Slots[i].Bytes));
            return Task.FromResult<IReadOnlyList<LedgerEntry>>(page);
        }
    }

    /// <summary>Forgets the member and zeroes its entries' bytes in the pages (the space is not reused until the process restarts).</summary>
    public Task EraseAsync(string memberKey, CancellationToken cancellationToken = default)
    {
        if (_members.TryRemove(memberKey, out var list))
        {
            lock (list)
            {
                for (var i = 0; i < list.Count; i++) Array.Clear(list.Slots[i].Page, list.Slots[i].Offset, list.Slots[i].Length);
                list.Count = 0;
                list.Slots = [];
            }
        }
        return Task.CompletedTask;
    }
}
