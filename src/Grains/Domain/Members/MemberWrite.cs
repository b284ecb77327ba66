using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Domain.Members;

/// <summary>
/// One write in progress: a private copy of the state, the program, the instant, and the entries emitted
/// so far. Each emitted entry is folded into the copy at once, so later rules see its effect. The caller
/// makes the entries durable, then adopts <see cref="State"/>; on failure it simply drops this object.
/// </summary>
public sealed class MemberWrite(MemberState state, MembershipProgram program, DateTimeOffset now)
{
    private readonly List<LedgerEntry> _entries = [];
    private TierStatus? _tierCache;
    private long _tierCacheRevision = -1;
    private DateTimeOffset _tierCacheAt;

    public MemberState State { get; } = state;
    public MembershipProgram Program { get; } = program;
    public DateTimeOffset Now { get; } = now;
    public IReadOnlyList<LedgerEntry> Entries => _entries;

    /// <summary>Assigns the next seq and the recording instant, folds the entry in, and keeps it.</summary>
    public LedgerEntry Emit(LedgerEntry entry)
    {
        var e = entry with { Seq = State.LastSeq + 1, RecordedAt = Now };
        State.Apply(e);
        _entries.Add(e);
        return e;
    }

    /// <summary>The tier at <paramref name="at"/> given the history written so far.</summary>
    public TierStatus TierAt(DateTimeOffset at)
    {
        if (_tierCache is not null && _tierCacheRevision == State.Revision && _tierCacheAt == at) return _tierCache;
        _tierCache = MemberQueries.TierAt(State, Program, at);
        _tierCacheRevision = State.Revision;
        _tierCacheAt = at;
        return _tierCache;
    }
}
