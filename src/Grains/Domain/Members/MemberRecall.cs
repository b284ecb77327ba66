using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Domain.Members;

/// <summary>What a request needs from the ledger before the rules run on a bounded state.</summary>
/// <param name="WholeHistory">the request reaches behind the state's horizon: replay the whole ledger</param>
/// <param name="CallerIds">ids the state's filter may have seen: read their entries (they are duplicates or reused)</param>
/// <param name="OrderIds">orders the state's filter may have seen: read their earn and clawback entries</param>
public sealed record MemberRecall(bool WholeHistory, IReadOnlyList<string> CallerIds, IReadOnlyList<string> OrderIds)
{
    public static readonly MemberRecall Nothing = new(false, [], []);
    private static readonly MemberRecall Everything = new(true, [], []);

    /// <summary>For scoring events. Conservative: it may ask for more than the rules will read, never less.</summary>
    public static MemberRecall ForEvents(MemberState state, MembershipProgram program, IReadOnlyList<ScoringEvent> events, DateTimeOffset now)
    {
        if (state.Horizon is not { } horizon) return Nothing;
        if (!TierHolds(state, program)) return Everything;
        List<string>? ids = null, orders = null;
        foreach (var ev in events)
        {
            // Its id first: a retry of an event whose type the program has since dropped is still a duplicate.
            if (ev.EventId is { } id && state.MustRecall(id)) (ids ??= []).Add(id);
            if (!program.EventTypes.TryGetValue(ev.Type ?? "", out var type)) continue;
            var at = ev.HappenedAt(now);
            // At the horizon itself too: a tier period it starts there is reported by asking the tier just before.
            if (at <= horizon) return Everything;
            // Counts of days (and months: caps, monthly limits) before the kept ones are in the ledger only.
            if ((type.Limit?.PerDay is not null || type.UsesPeriods) && MemberState.DayNumber(program.DayKey(at)) < state.DayHorizon) return Everything;
            if (ev.OrderId is { } orderId && type.Kind is EventKind.Purchase or EventKind.Refund && state.MustRecallOrder(orderId)) (orders ??= []).Add(orderId);
        }
        return ids is null && orders is null ? Nothing : new(false, (IReadOnlyList<string>?)ids ?? [], (IReadOnlyList<string>?)orders ?? []);
    }

    /// <summary>For a write identified by one caller id (a redemption, a benefit use, a plan action).</summary>
    public static MemberRecall ForCallerId(MemberState state, MembershipProgram program, string? id)
    {
        if (state.Horizon is null) return Nothing;
        if (!TierHolds(state, program)) return Everything;
        return id is not null && state.MustRecall(id) ? new(false, [id], []) : Nothing;
    }

    /// <summary>For a plan action: one dated at or before the horizon reaches behind it (its term, a term's bonus).</summary>
    public static MemberRecall ForSubscription(MemberState state, MembershipProgram program, SubscriptionRequest request)
        => state.Horizon is { } horizon && request.At is { } at && at <= horizon ? Everything : ForCallerId(state, program, request.SubscriptionEventId);

    /// <summary>For a read: only a change of the tier rules since the checkpoint needs the history.</summary>
    public static MemberRecall ForRead(MemberState state, MembershipProgram program)
        => TierRulesHold(state, program) ? Nothing : Everything;

    private static bool TierRulesHold(MemberState state, MembershipProgram program)
        => state.Checkpoint is not { } c || c.Rules == program.TierRules;

    /// <summary>
    /// For a write: the tier rules hold, and no tier period started behind the checkpoint without its entry:
    /// the period last reported started after the checkpoint, or is the one in force at it. Otherwise (the
    /// member was idle across a re-grade and a fold moved past it) the write's tier entries reach behind the
    /// checkpoint (<see cref="MemberRules.WriteDue"/>).
    /// </summary>
    private static bool TierHolds(MemberState state, MembershipProgram program)
    {
        if (!TierRulesHold(state, program)) return false;
        return state.Checkpoint is not { } c
               || state.ReportedPeriodStart >= c.At
               || state.IsReported(program, c.TierCode, c.Since, c.ValidUntil);
    }
}
