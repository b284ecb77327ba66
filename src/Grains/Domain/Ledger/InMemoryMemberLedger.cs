using System.Collections.Concurrent;

namespace Orleans.Membership.Domain.Ledger;

/// <summary>The embedded mode's ledger: entries live in this process and die with it (nothing is durable).</summary>
public sealed class InMemoryMemberLedger : IMemberLedger
{
    private readonly ConcurrentDictionary<string, List<LedgerEntry>> _members = new(StringComparer.Ordinal);

    public Task AppendAsync(string memberKey, IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken = default)
    {
        var list = _members.GetOrAdd(memberKey, _ => []);
        lock (list)
        {
            var last = list.Count == 0 ? 0 : list[^1].Seq;
            if (entries.Count > 0 && entries[0].Seq != last + 1)
            {
                throw new InvalidOperationException($"ledger of '{memberKey}' is at seq {last}, append starts at {entries[0].Seq}");
            }
            list.AddRange(entries);
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<LedgerEntry>> ReadAfterAsync(string memberKey, long afterSeq, CancellationToken cancellationToken = default)
    {
        if (!_members.TryGetValue(memberKey, out var list)) return Task.FromResult<IReadOnlyList<LedgerEntry>>([]);
        lock (list)
        {
            return Task.FromResult<IReadOnlyList<LedgerEntry>>(list.Where(e => e.Seq > afterSeq).ToArray());
        }
    }

    public Task<IReadOnlyList<LedgerEntry>> ReadPageAsync(string memberKey, long? beforeSeq, int limit, CancellationToken cancellationToken = default)
    {
        if (!_members.TryGetValue(memberKey, out var list)) return Task.FromResult<IReadOnlyList<LedgerEntry>>([]);
        lock (list)
        {
            // Seqs are contiguous from 1, so the index of seq s is s - 1.
            var end = (int)Math.Min(list.Count, (beforeSeq ?? long.MaxValue) - 1);
            var page = new List<LedgerEntry>(Math.Min(limit, Math.Max(end, 0)));
            for (var i = end - 1; i >= 0 && page.Count < limit; i--) page.Add(list[i]);
            return Task.FromResult<IReadOnlyList<LedgerEntry>>(page);
        }
    }

    public Task EraseAsync(string memberKey, CancellationToken cancellationToken = default)
    {
        _members.TryRemove(memberKey, out _);
        return Task.CompletedTask;
    }
}
