using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Domain.Members;

/// <summary>What a benefit check reads of a member besides its tier (<see cref="MemberQueries.Check"/>).</summary>
public interface IBenefitFacts
{
    int? BirthMonth { get; }
    /// <summary>When the member joined; null for one never enrolled.</summary>
    DateTimeOffset? MemberSince { get; }
    bool PlanActiveAt(string plan, DateTimeOffset at);
    /// <summary>The end of the plan's last term; null when the member never had it.</summary>
    DateTimeOffset? PlanExpiresAt(string plan);
    long Counter(string name);
    int BenefitUsesIn(string code, string period);
}

/// <summary>
/// An immutable copy of what a benefit check reads of a member, with its tier, published by the member's
/// activation after each durable write that changed it, so that checkout on other threads never touches
/// the member's live state. The tier is the one at <see cref="PublishedAt"/>; it holds until
/// <see cref="GoodUntil"/> (the end of its validity, or the instant of the earliest growth dated after
/// publication, whichever comes first), and only for the program version it was computed with: past
/// that, the check must go to the member (<see cref="Answers"/>).
/// </summary>
public sealed class BenefitFacts : IBenefitFacts
{
    private readonly PlanState[] _plans;
    private readonly Tally[] _benefitUses;
    private readonly Tally[] _counters;

    private BenefitFacts(MemberState state, TierStatus tier, int programVersion, DateTimeOffset publishedAt, DateTimeOffset? goodUntil)
    {
        Enrolled = state.Enrolled;
        BirthMonth = state.BirthMonth;
        MemberSince = state.MemberSince;
        Tier = tier;
        ProgramVersion = programVersion;
        PublishedAt = publishedAt;
        GoodUntil = goodUntil;
        FactsRevision = state.FactsRevision;
        _plans = state.Plans.Count == 0 ? [] : [.. state.Plans];
        _benefitUses = state.BenefitUses.Count == 0 ? [] : [.. state.BenefitUses];
        _counters = state.Counters.Count == 0 ? [] : [.. state.Counters];
    }

    public bool Enrolled { get; }
    public int? BirthMonth { get; }
    public DateTimeOffset? MemberSince { get; }
    public TierStatus Tier { get; }
    public int ProgramVersion { get; }
    public DateTimeOffset PublishedAt { get; }
    public DateTimeOffset? GoodUntil { get; }
    /// <summary>The state's <see cref="MemberState.FactsRevision"/> when this was taken.</summary>
    public long FactsRevision { get; }

    /// <summary>The facts of <paramref name="state"/> now, with <paramref name="tier"/> its tier at <paramref name="now"/>.</summary>
    public static BenefitFacts Of(MemberState state, MembershipProgram program, TierStatus tier, DateTimeOffset now)
        => new(state, tier, program.Version, now, GoodUntilOf(state, program, tier, now));

    /// <summary>True when these facts are still exactly the member's, given its state, tier and program now.</summary>
    public bool Matches(MemberState state, MembershipProgram program, TierStatus tier, DateTimeOffset now)
        => FactsRevision == state.FactsRevision && ProgramVersion == program.Version && Equals(Tier, tier)
           && GoodUntil == GoodUntilOf(state, program, tier, now);

    /// <summary>True when a check at <paramref name="now"/> under <paramref name="program"/> may be answered from these facts.</summary>
    public bool Answers(MembershipProgram program, DateTimeOffset now)
        => program.Version == ProgramVersion && now >= PublishedAt && (GoodUntil is not { } end || now < end);

    public bool PlanActiveAt(string plan, DateTimeOffset at)
    {
        foreach (var p in _plans)
        {
            if (p.Code == plan) return p.IsActiveAt(at);
        }
        return false;
    }

    public DateTimeOffset? PlanExpiresAt(string plan)
    {
        foreach (var p in _plans)
        {
            if (p.Code == plan) return p.ExpiresAt;
        }
        return null;
    }

    public long Counter(string name) => Find(_counters, name);

    public int BenefitUsesIn(string code, string period) => (int)Find(_benefitUses, MemberState.UseKey(code, period));

    private static long Find(Tally[] tallies, string key)
    {
        foreach (var t in tallies)
        {
            if (t.Key == key) return t.Count;
        }
        return 0;
    }

    /// <summary>The check as the member would answer it at <paramref name="now"/>; only when <see cref="Answers"/>.</summary>
    public BenefitCheck Check(MembershipProgram program, Benefit benefit, DateTimeOffset now)
        => MemberQueries.Check(Enrolled ? this : null, program, benefit, now, Enrolled ? Tier.Tier : program.BaseTier);

    private static DateTimeOffset? GoodUntilOf(MemberState state, MembershipProgram program, TierStatus tier, DateTimeOffset now)
    {
        // Growth is in occurredAt order: the records dated after now are at the end.
        DateTimeOffset? next = null;
        for (var i = state.Growth.Count - 1; i >= 0 && state.Growth[i].OccurredAt > now; i--) next = state.Growth[i].OccurredAt;
        // Growth that time brings changes the tier at a day's start (or a term's).
        if (TimeGrowth.NextChange(state, program, now) is { } change && (next is not { } m || change < m)) next = change;
        return tier.ValidUntil is { } end && (next is not { } n || end < n) ? end : next;
    }
}
