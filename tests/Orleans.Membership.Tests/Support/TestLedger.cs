using System.Collections.Concurrent;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Grains;

namespace Orleans.Membership.Tests.Support;

/// <summary>
/// The in-memory ledger with the failures tests need: appends that wait until the test opens
/// <see cref="Open"/> (members that cannot keep up), appends that fail while <see cref="Down"/> (the
/// store is away), one member's next append held until the test lets it go (<see cref="Hold"/>), and
/// the last activation read per member (whether a snapshot was used), and appends that commit and then
/// fail (<see cref="CommitThenFail"/>: the acknowledgement lost on the way back).
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

    private readonly ConcurrentDictionary<string, HeldAppend> _held = new();

    private readonly ConcurrentDictionary<string, bool> _commitThenFail = new();

    /// <summary>The next append of <paramref name="memberKey"/> is committed, then reported as failed.</summary>
    public void CommitThenFail(string memberKey) => _commitThenFail[memberKey] = true;

    /// <summary>Holds the next append of <paramref name="memberKey"/> until the test completes or fails it.</summary>
    public HeldAppend Hold(string memberKey)
    {
        var held = new HeldAppend();
        if (!_held.TryAdd(memberKey, held)) throw new InvalidOperationException($"an append of {memberKey} is already held");
        return held;
    }

    public async Task AppendAsync(string memberKey, IReadOnlyList<LedgerEntry> entries, CancellationToken ct = default)
    {
        if (_held.TryRemove(memberKey, out var held))
        {
            held.Arrived.SetResult();
            await held.Outcome.Task;
        }
        if (Down) throw new LedgerUnavailableException("ledger is down (test)");
        await Open.Task;
        await _inner.AppendAsync(memberKey, entries, ct);
        if (_commitThenFail.TryRemove(memberKey, out _)) throw new LedgerUnavailableException("the ledger committed but the acknowledgement was lost (test)");
    }

    public Task<IReadOnlyList<LedgerEntry>> FindAsync(string memberKey, IReadOnlyCollection<string> callerIds, CancellationToken ct = default)
        => _inner.FindAsync(memberKey, callerIds, ct);

    public Task<IReadOnlyList<LedgerEntry>> FindOrdersAsync(string memberKey, IReadOnlyCollection<string> orderIds, CancellationToken ct = default)
        => _inner.FindOrdersAsync(memberKey, orderIds, ct);

    public Task<IReadOnlyList<LedgerEntry>> ReadAfterAsync(string memberKey, long afterSeq, CancellationToken ct = default)
    {
        LastReadAfter[memberKey] = afterSeq;
        return _inner.ReadAfterAsync(memberKey, afterSeq, ct);
    }

    public Task<IReadOnlyList<LedgerEntry>> ReadPageAsync(string memberKey, long? beforeSeq, int limit, CancellationToken ct = default)
        => _inner.ReadPageAsync(memberKey, beforeSeq, limit, ct);

    public Task EraseAsync(string memberKey, CancellationToken ct = default) => _inner.EraseAsync(memberKey, ct);
}

/// <summary>An append the test holds: <see cref="Arrived"/> when the member's write reached the ledger, then released.</summary>
public sealed class HeldAppend
{
    public TaskCompletionSource Arrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    internal TaskCompletionSource Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets the append go through.</summary>
    public void Release() => Outcome.SetResult();

    /// <summary>Makes the append fail as if the store went away.</summary>
    public void Fail() => Outcome.SetException(new LedgerUnavailableException("ledger failed the held append (test)"));
}
