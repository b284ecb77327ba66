using System.Collections.Frozen;

namespace Orleans.Membership.Domain.Programs;

/// <summary>
/// A validated, immutable program: the rules a member grain evaluates. Built only by
/// <see cref="ProgramCompiler"/> from a JSON definition; every instance is internally consistent.
/// </summary>
public sealed class MembershipProgram
{
    public required string Id { get; init; }
    public required int Version { get; init; }
    public required string Name { get; init; }
    public required string Currency { get; init; }
    public required TimeZoneInfo TimeZone { get; init; }

    /// <summary>How growth counts toward the tier: a rolling window of months, or all of history.</summary>
    public required QualifyingWindow Qualifying { get; init; }

    /// <summary>Tiers in ascending threshold order; <c>Tiers[0]</c> is the base tier with threshold 0.</summary>
    public required IReadOnlyList<Tier> Tiers { get; init; }

    /// <summary>Months a reached tier stays valid before a re-grade; null: tiers never expire (no downgrade).</summary>
    public required int? TierValidityMonths { get; init; }

    public required FrozenDictionary<string, EventType> EventTypes { get; init; }
    public required FrozenDictionary<string, Multiplier> Multipliers { get; init; }
    public required PointExpiry PointExpiry { get; init; }

    /// <summary>Days ahead that <c>expiringSoon</c> warns of a bucket's expiry.</summary>
    public required int ExpiringSoonDays { get; init; }

    /// <summary>
    /// Days after an order that a refund of it is expected: members keep orders (and the growth history a
    /// refund replays) that long in memory; a refund of an older order reads the member's whole ledger.
    /// </summary>
    public int RefundableDays { get; init; } = 365;

    /// <summary>What a member's growth checkpoint depends on (<see cref="Members.TierPolicy.RulesOf"/>).</summary>
    public string TierRules => _tierRules ??= Members.TierPolicy.RulesOf(this);
    private string? _tierRules;

    /// <summary>Benefits in definition order.</summary>
    public required IReadOnlyList<Benefit> Benefits { get; init; }
    public required FrozenDictionary<string, Benefit> BenefitsByCode { get; init; }
    public required FrozenDictionary<string, Plan> Plans { get; init; }

    /// <summary>The definition as accepted (compact JSON without <c>id</c> and <c>version</c>, which the API adds back), for <c>GET /v1/programs/{id}</c>.</summary>
    public required string DefinitionJson { get; init; }

    public Tier BaseTier => Tiers[0];

    public Tier? FindTier(string code)
    {
        foreach (var t in Tiers)
        {
            if (t.Code == code) return t;
        }
        return null;
    }
}

/// <summary>Qualifying growth window: <see cref="Months"/> null means lifetime growth decides the tier.</summary>
public sealed record QualifyingWindow(int? Months)
{
    public bool IsLifetime => Months is null;
}

/// <summary>A tier (等级): reached when qualifying growth is at least <see cref="Threshold"/>.</summary>
public sealed record Tier(string Code, string Name, long Threshold, decimal PointMultiplier, int Rank);

/// <summary>What an event type is, which decides the fields it needs and how refunds treat it.</summary>
public enum EventKind
{
    /// <summary>A paid order: needs orderId and amount; can be refunded later.</summary>
    Purchase,
    /// <summary>A refund of a purchase: needs orderId and amount.</summary>
    Refund,
    /// <summary>Any other activity (sign-in, review, ...): earns fixed amounts.</summary>
    Activity,
}

/// <summary>An event type a program accepts, with its growth and points rules.</summary>
public sealed record EventType(
    string Type,
    EventKind Kind,
    string? Refunds, // for a refund: the purchase type it refunds
    Formula? Growth,
    Formula? Points,
    IReadOnlyList<string> PointMultipliers, // applied to points; the built-in `tier` by name
    EarnLimit? Limit,
    IReadOnlyDictionary<string, int> Counters); // e.g. coffee stamps; a full refund takes them back

/// <summary>Either a fixed amount or floor(factor × amount).</summary>
public sealed record Formula(long? Fixed, decimal? PerAmount)
{
    public bool DependsOnAmount => PerAmount is not null;
}

/// <summary>How often an event type may earn: per day (program time zone) and/or per member.</summary>
public sealed record EarnLimit(int? PerDay, int? PerMember);

/// <summary>The built-in multiplier name that applies the tier's point multiplier.</summary>
public static class BuiltInMultipliers
{
    public const string Tier = "tier";
}

/// <summary>A points multiplier that applies when its condition holds at the event's instant.</summary>
public sealed record Multiplier(string Name, decimal Factor, MultiplierCondition When);

/// <summary>Exactly one condition is set.</summary>
public sealed record MultiplierCondition(bool BirthdayMonth, string? PlanActive, DayOfWeek? Weekday, IReadOnlyList<string>? Tiers);

public enum PointExpiryPolicy
{
    /// <summary>Expires at the start of 1 January, <c>YearsAfter</c> + 1 years after the year of earning.</summary>
    EndOfYear,
    /// <summary>Expires <c>Days</c> × 24 hours after earning.</summary>
    DaysAfterEarning,
    Never,
}

public sealed record PointExpiry(PointExpiryPolicy Policy, int YearsAfter, int Days);

public enum QuotaPeriod { Month, Year, Lifetime }

public enum ValueRule { Lowest, Highest }

/// <summary>A benefit (权益): who is entitled, how often, with which value, and when.</summary>
public sealed record Benefit(
    string Code,
    string Name,
    QuotaPeriod Period,
    ValueRule ValueRule,
    BenefitWindow Window,
    IReadOnlyList<BenefitGrant> Grants);

/// <summary>When a benefit may be used; an empty window means always.</summary>
public sealed record BenefitWindow(bool BirthdayMonthOnly, int? FromDayOfMonth)
{
    public static readonly BenefitWindow Always = new(false, null);
}

/// <summary>
/// One source of a benefit: the tiers and/or plans it applies to, and its quota per period
/// (null = unlimited), or a quota earned by a counter (one use per <see cref="EarnedBy"/>.Every).
/// </summary>
public sealed record BenefitGrant(
    IReadOnlyList<string> Tiers,
    IReadOnlyList<string> Plans,
    int? Quota,
    CounterQuota? EarnedBy,
    decimal? Value)
{
    public bool IsUnlimited => Quota is null && EarnedBy is null;
}

public sealed record CounterQuota(string Counter, int Every);

/// <summary>A paid plan (付费会员) with the terms it sells and its once-only trial.</summary>
public sealed record Plan(string Code, string Name, IReadOnlyList<string> Terms, int? TrialDays);
