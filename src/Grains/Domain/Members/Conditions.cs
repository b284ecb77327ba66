using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Domain.Members;

/// <summary>Evaluates a <see cref="Condition"/>: every part that is set must hold.</summary>
public static class Conditions
{
    /// <summary>
    /// True when <paramref name="condition"/> holds for the member at <paramref name="at"/>. <paramref name="member"/>
    /// null is a guest (no birthday, no plan, never joined). The tier is <paramref name="tier"/>, or, when that is
    /// null and a part needs it, the tier in force at <paramref name="at"/> given <paramref name="write"/>'s history
    /// (computed once and handed back for the next condition). <paramref name="attributes"/> are the event's.
    /// </summary>
    public static bool Holds(
        Condition condition, MembershipProgram program, IBenefitFacts? member, DateTimeOffset at,
        ref Tier? tier, MemberWrite? write = null, EventAttributes? attributes = null)
    {
        if (condition.BirthdayMonth && !program.IsBirthdayMonth(member?.BirthMonth, at)) return false;
        if (condition.PlanActive is { } plan && !MemberQueries.PlanActiveAt(member, plan, at)) return false;
        if (condition.From is { } from && at < from) return false;
        if (condition.To is { } to && at >= to) return false;
        if (condition.PlanEnding is { } ending && !PlanEnds(member, ending, at)) return false;
        if (condition.Weekdays is { } weekdays || condition.FromDayOfMonth is not null || condition.Anniversary)
        {
            var local = program.Local(at);
            if (condition.Weekdays is { } days && !Contains(days, local.DayOfWeek)) return false;
            if (condition.FromDayOfMonth is { } day && local.Day < day) return false;
            if (condition.Anniversary && !IsAnniversary(program, member, local)) return false;
        }
        if (condition.Attributes is { } matches)
        {
            foreach (var match in matches)
            {
                if (attributes?.Text(match.Name) is not { } value || !Contains(match.Values, value)) return false;
            }
        }
        if (condition.Tiers is { } tiers)
        {
            tier ??= write is not null ? write.TierAt(at).Tier : program.BaseTier;
            if (!Contains(tiers, tier.Code)) return false;
        }
        return true;
    }

    /// <summary>The plan runs at <paramref name="at"/> and its run ends within the days given.</summary>
    private static bool PlanEnds(IBenefitFacts? member, PlanEnding ending, DateTimeOffset at)
        => member is not null && member.PlanActiveAt(ending.Plan, at)
           && member.PlanExpiresAt(ending.Plan) is { } end && end <= at.AddDays(ending.WithinDays);

    /// <summary>
    /// The membership anniversary: the local day with the month and day the member joined on, in every year
    /// after the year it joined (one who joined on 29 February has it on 28 February in other years).
    /// </summary>
    public static bool IsAnniversary(MembershipProgram program, IBenefitFacts? member, DateTime local)
    {
        if (member?.MemberSince is not { } joinedAt) return false;
        var joined = program.Local(joinedAt);
        if (local.Year <= joined.Year) return false;
        var day = joined.Month == 2 && joined.Day == 29 && !DateTime.IsLeapYear(local.Year) ? 28 : joined.Day;
        return local.Month == joined.Month && local.Day == day;
    }

    private static bool Contains<T>(IReadOnlyList<T> list, T value) where T : IEquatable<T>
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i].Equals(value)) return true;
        }
        return false;
    }

    private static bool Contains(IReadOnlyList<DayOfWeek> list, DayOfWeek value)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] == value) return true;
        }
        return false;
    }
}
