using System.Collections.Concurrent;
using Orleans.Membership.Domain.Ledger;

namespace Orleans.Membership.Tests.Support;

/// <summary>
/// The in-memory ledger with the failures tests need: appends that wait until the test opens
/// <see cref="Open"/> (members that cannot keep up), appends that fail while <see cref="Down"/> (the
/// store is away), and the last activation read per member (whether a snapshot was used).
/// </summary>
public sealed class TestLedger : IMemberLedger
{
    private readonly InMemoryMemberLedger _inner = new();

    /// <param name="open">false: appends wait until the test completes <see cref="Open"/>.</param>
    public TestLedger(bool open = true)
    {
        if (open) Open.SetResult();
    }

    public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public volatile bool Down;
    /// <summary>The afterSeq of the last activation read per member.</summary>
    public ConcurrentDictionary<string, long> LastReadAfter { get; } = new();

    public async Task AppendAsync(string memberKey, IReadOnlyList<LedgerEntry> entries, CancellationToken ct = default)
    {
        if (Down) throw new LedgerUnavailableException("ledger is down (test)");
        await Open.Task;
        await _inner.AppendAsync(memberKey, entries, ct);
    }

    public Task<IReadOnlyList<LedgerEntry>> ReadAfterAsync(string memberKey, long afterSeq, CancellationToken ct = default)
    {
        LastReadAfter[memberKey] = afterSeq;
        return _inner.ReadAfterAsync(memberKey, afterSeq, ct);
    }

    public Task<IReadOnlyList<LedgerEntry>> ReadPageAsync(string memberKey, long? beforeSeq, int limit, CancellationToken ct = default)
        => _inner.ReadPageAsync(memberKey, beforeSeq, limit, ct);

    public Task EraseAsync(string memberKey, CancellationToken ct = default) => _inner.EraseAsync(memberKey, ct);
}
