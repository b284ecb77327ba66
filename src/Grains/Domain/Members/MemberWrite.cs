using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Domain.Members;

/// <summary>
/// One write in progress: the member's state, the program, the instant, and the entries emitted so far.
/// Each emitted entry is folded into the state at once, in place, so later rules see its effect; the
/// write opens a change of the state (<see cref="MemberState.BeginChange"/>). The caller makes the
/// entries durable before anything reads the state, then <see cref="Keep"/>s them; if that fails (or a
/// rule throws) it calls <see cref="Undo"/>, and the state is exactly as it was.
/// </summary>
public sealed class MemberWrite
{
    private readonly List<LedgerEntry> _entries = [];
    private TierStatus? _tierCache;
    private long _tierCacheRevision = -1;
    private DateTimeOffset _tierCacheAt;

    public MemberWrite(MemberState state, MembershipProgram program, DateTimeOffset now)
    {
        state.BeginChange();
        State = state;
        Program = program;
        Now = now;
    }

    public MemberState State { get; }
    public MembershipProgram Program { get; }
    public DateTimeOffset Now { get; }
    public IReadOnlyList<LedgerEntry> Entries => _entries;

    /// <summary>
    /// Assigns the next seq and the recording instant, folds the entry in, and keeps it. The entry must be
    /// a new one that nothing else holds (the rules build each with <c>new</c> or <c>with</c>).
    /// </summary>
    public LedgerEntry Emit(LedgerEntry entry)
    {
        if (entry.Seq != 0) throw new InvalidOperationException("an entry is emitted once: this one already has a seq");
        var e = entry.Stamp(State.LastSeq + 1, Now);
        State.Apply(e);
        _entries.Add(e);
        return e;
    }

    /// <summary>Keeps the entries folded in: they are durable.</summary>
    public void Keep() => State.CommitChange();

    /// <summary>Takes the entries folded in back out: they did not become durable.</summary>
    public void Undo() => State.UndoChange();

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
