using System.Collections.Concurrent;

namespace Orleans.Membership.Domain.Ledger;

/// <summary>
/// The embedded mode's ledger: entries live in this process and die with it (nothing is durable).
/// A member's entries are kept as their compact JSON, one after another in one byte array, not as records
/// and strings: a busy node keeps every entry it ever wrote, and as objects (six or so per entry) they
/// were the largest share of what each young collection had to trace and copy; as bytes a member's
/// whole ledger is two arrays. Reads (activation replay, statement pages) decode.
/// </summary>
public sealed class InMemoryMemberLedger : IMemberLedger
{
    /// <summary>One member's entries: entry i (seq i + 1) is <c>Data[Ends[i - 1]..Ends[i]]</c>.</summary>
    private sealed class Entries
    {
        public byte[] Data = [];
        public int[] Ends = [];
        public int Count;

        public int Used => Count == 0 ? 0 : Ends[Count - 1];
        public ReadOnlySpan<byte> this[int index] => Data.AsSpan((index == 0 ? 0 : Ends[index - 1])..Ends[index]);

        public void Add(byte[] encoded)
        {
            var used = Used;
            if (used + encoded.Length > Data.Length) Array.Resize(ref Data, Math.Max(1024, Math.Max(used + encoded.Length, Data.Length * 2)));
            if (Count == Ends.Length) Array.Resize(ref Ends, Math.Max(8, Count * 2));
            encoded.CopyTo(Data, used);
            Ends[Count++] = used + encoded.Length;
        }
    }

    private readonly ConcurrentDictionary<string, Entries> _members = new(StringComparer.Ordinal);

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
            foreach (var e in encoded) list.Add(e);
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<LedgerEntry>> ReadAfterAsync(string memberKey, long afterSeq, CancellationToken cancellationToken = default)
    {
        if (!_members.TryGetValue(memberKey, out var list)) return Task.FromResult<IReadOnlyList<LedgerEntry>>([]);
        lock (list)
        {
            var from = (int)Math.Clamp(afterSeq, 0, list.Count);
            var result = new LedgerEntry[list.Count - from];
            for (var i = 0; i < result.Length; i++) result[i] = LedgerEntryJson.Decode(list[from + i]);
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
            for (var i = end - 1; i >= 0 && page.Count < limit; i--) page.Add(LedgerEntryJson.Decode(list[i]));
            return Task.FromResult<IReadOnlyList<LedgerEntry>>(page);
        }
    }

    public Task EraseAsync(string memberKey, CancellationToken cancellationToken = default)
    {
        _members.TryRemove(memberKey, out _);
        return Task.CompletedTask;
    }
}
