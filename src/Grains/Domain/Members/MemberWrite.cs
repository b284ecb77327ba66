using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Domain.Members;

/// <summary>
/// One write in progress: the member's state, the program, the instant, and the entries emitted so far.
/// Each emitted entry is folded into the state at once, so later rules see its effect. The caller makes the
/// entries durable before anything reads the state; if that fails (or a rule throws), the caller discards
/// the state and rebuilds it from the ledger: nothing here is ever taken back.
/// </summary>
public sealed class MemberWrite(MemberState state, MembershipProgram program, DateTimeOffset now)
{
    private readonly List<LedgerEntry> _entries = [];

    public MemberState State { get; } = state;
    public MembershipProgram Program { get; } = program;
    public DateTimeOffset Now { get; } = now;
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

    /// <summary>The tier at <paramref name="at"/> given the history written so far.</summary>
    public TierStatus TierAt(DateTimeOffset at) => MemberQueries.TierAt(State, Program, at);
}
