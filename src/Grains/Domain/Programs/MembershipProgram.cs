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

    /// <summary>Months a reached tier stays valid before a re-grade; null: no validity (see <see cref="RegradeDayOfMonth"/>).</summary>
    public required int? TierValidityMonths { get; init; }

    /// <summary>
    /// The day of the month (1..28) on which every tier is re-graded at 00:00 in the program's zone; null: no
    /// calendar re-grade. Never together with <see cref="TierValidityMonths"/>.
    /// </summary>
    public int? RegradeDayOfMonth { get; init; }

    /// <summary>True when a reached tier ends (a validity, or the next calendar re-grade) and is then re-graded.</summary>
    public bool TiersExpire => TierValidityMonths is not null || RegradeDayOfMonth is not null;

    /// <summary>Growth lost on every day that starts without an active plan (never below zero); null: none.</summary>
    public GrowthDecline? Decline { get; init; }

    /// <summary>True when growth moves with time: accrual or bonuses of plan terms, or a decline.</summary>
    public bool HasTimeGrowth => _hasTimeGrowth ??= Decline is not null
        || Plans.Values.Any(p => p.TermRules.Any(t => t.GrowthPerDay > 0 || t.BonusGrowth > 0));
    private bool? _hasTimeGrowth;

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
    IReadOnlyDictionary<string, int> Counters) // e.g. coffee stamps; a full refund takes them back
{
    /// <summary>The condition under which the type earns at all; null: always.</summary>
    public Condition? When { get; init; }

    /// <summary>Cases by condition: the first whose condition holds replaces growth, points and multipliers.</summary>
    public IReadOnlyList<EarnRule> Rules { get; init; } = [];

    /// <summary>Counters that add an integer attribute of the event (counter name -> attribute name).</summary>
    public IReadOnlyDictionary<string, string> QuantityCounters { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>Caps on the growth and points an event earns, per event, day or month (optionally per attribute value).</summary>
    public IReadOnlyList<Cap> Caps { get; init; } = [];

    /// <summary>Consecutive days or months with an earning event of this type, and the rewards of its length.</summary>
    public Streak? Streak { get; init; }

    /// <summary>The attributes the type's rules read: an event without one of them (or of another type) is rejected.</summary>
    public IReadOnlyList<AttributeUse> Attributes { get; init; } = [];

    /// <summary>True when an event of the type counts in a period beside its day count (caps per day or month, a monthly limit).</summary>
    public bool UsesPeriods { get; init; }
}

/// <summary>One case of an event type: applies when <see cref="When"/> holds (the first that holds wins).</summary>
public sealed record EarnRule(Condition When, Formula? Growth, Formula? Points, IReadOnlyList<string> PointMultipliers);

/// <summary>Either a fixed amount or floor(factor × base); the base is the amount, or the numeric attribute <see cref="Of"/>.</summary>
public sealed record Formula(long? Fixed, decimal? PerAmount, string? Of = null)
{
    public bool DependsOnAmount => PerAmount is not null;
}

/// <summary>How often an event type may earn: per day, per month (program time zone) and/or per member.</summary>
public sealed record EarnLimit(int? PerDay, int? PerMember, int? PerMonth = null);

public enum CapTarget { Growth, Points }

public enum CapPeriod { Event, Day, Month }

/// <summary>At most <see cref="Max"/> growth or points per event, or per calendar day or month (per value of the attribute <see cref="By"/>).</summary>
public sealed record Cap(CapTarget On, CapPeriod Per, long Max, string? By);

public enum StreakPeriod { Day, Month }

/// <summary>
/// Consecutive calendar days or months with an earning event of the type. The reward of the row with the
/// highest <see cref="StreakReward.From"/> not above the streak's length is earned on the event that extends
/// it; with <see cref="Cycle"/>, the length after <c>Cycle</c> starts again at 1.
/// </summary>
public sealed record Streak(StreakPeriod Period, IReadOnlyList<StreakReward> Rewards, int? Cycle);

public sealed record StreakReward(int From, long Growth, long Points);

public enum AttributeKind
{
    /// <summary>A number of at least 0 with at most 2 decimals (a formula's base).</summary>
    Number,
    /// <summary>A whole number of at least 0 (a counter's quantity).</summary>
    Integer,
    /// <summary>A string (a condition's value, a cap's key).</summary>
    Text,
}

/// <summary>An event attribute some rule reads, and what it must be.</summary>
public sealed record AttributeUse(string Name, AttributeKind Kind);

/// <summary>The built-in multiplier name that applies the tier's point multiplier.</summary>
public static class BuiltInMultipliers
{
    public const string Tier = "tier";
}

/// <summary>A points multiplier that applies when its condition holds at the event's instant.</summary>
public sealed record Multiplier(string Name, decimal Factor, Condition When);

/// <summary>
/// A condition on the member, the instant and (for events) the event's attributes: every part that is set
/// must hold (<see cref="Members.Conditions"/>). One shape for multipliers, event types and their rules,
/// benefit grants and windows, and price offers.
/// </summary>
public sealed record Condition
{
    public static readonly Condition Always = new();

    /// <summary>In the member's birthday month.</summary>
    public bool BirthdayMonth { get; init; }
    /// <summary>While this plan is active or in trial.</summary>
    public string? PlanActive { get; init; }
    /// <summary>While this plan runs and ends within a number of days.</summary>
    public PlanEnding? PlanEnding { get; init; }
    /// <summary>On one of these local weekdays.</summary>
    public IReadOnlyList<DayOfWeek>? Weekdays { get; init; }
    /// <summary>In one of these tiers (<c>minTier</c> is read as the tier and every higher one).</summary>
    public IReadOnlyList<string>? Tiers { get; init; }
    /// <summary>From this instant on (inclusive).</summary>
    public DateTimeOffset? From { get; init; }
    /// <summary>Before this instant (exclusive).</summary>
    public DateTimeOffset? To { get; init; }
    /// <summary>From this local day of each month on.</summary>
    public int? FromDayOfMonth { get; init; }
    /// <summary>On the local day of the membership anniversary (each year after the year joined).</summary>
    public bool Anniversary { get; init; }
    /// <summary>Events only: each named text attribute has one of the listed values.</summary>
    public IReadOnlyList<AttributeMatch>? Attributes { get; init; }

    public bool IsAlways => this == Always;

    public bool Equals(Condition? other)
        => other is not null && BirthdayMonth == other.BirthdayMonth && PlanActive == other.PlanActive && PlanEnding == other.PlanEnding
           && Same(Weekdays, other.Weekdays) && Same(Tiers, other.Tiers) && From == other.From && To == other.To
           && FromDayOfMonth == other.FromDayOfMonth && Anniversary == other.Anniversary
           && (Attributes is null ? other.Attributes is null : other.Attributes is not null && Attributes.Count == other.Attributes.Count
               && Attributes.Zip(other.Attributes).All(p => p.First.Name == p.Second.Name && p.First.Values.SequenceEqual(p.Second.Values)));

    public override int GetHashCode() => HashCode.Combine(BirthdayMonth, PlanActive, From, To, FromDayOfMonth, Anniversary);

    private static bool Same<T>(IReadOnlyList<T>? a, IReadOnlyList<T>? b) => a is null ? b is null : b is not null && a.SequenceEqual(b);
}

/// <summary>While <see cref="Plan"/> runs and its run ends within <see cref="WithinDays"/> days (a renewal window).</summary>
public sealed record PlanEnding(string Plan, int WithinDays);

/// <summary>An event's text attribute <see cref="Name"/> has one of <see cref="Values"/>.</summary>
public sealed record AttributeMatch(string Name, IReadOnlyList<string> Values);

/// <summary>Growth lost on each local day that starts without an active plan, never taking growth below zero.</summary>
public sealed record GrowthDecline(long PerDay);

public enum PointExpiryPolicy
{
    /// <summary>Expires at the start of 1 January, <c>YearsAfter</c> + 1 years after the year of earning.</summary>
    EndOfYear,
    /// <summary>Expires <c>Days</c> × 24 hours after earning.</summary>
    DaysAfterEarning,
    Never,
}

public sealed record PointExpiry(PointExpiryPolicy Policy, int YearsAfter, int Days);

public enum QuotaPeriod { Month, Year, Lifetime, Day }

public enum ValueRule { Lowest, Highest }

/// <summary>A benefit (权益): who is entitled, how often, with which value, and when (<see cref="Window"/>).</summary>
public sealed record Benefit(
    string Code,
    string Name,
    QuotaPeriod Period,
    ValueRule ValueRule,
    Condition Window,
    IReadOnlyList<BenefitGrant> Grants);

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

    /// <summary>A further condition that must hold for the grant to apply; null: none.</summary>
    public Condition? When { get; init; }
}

public sealed record CounterQuota(string Counter, int Every);

/// <summary>A paid plan (付费会员) with the terms it sells and its once-only trial.</summary>
public sealed record Plan(string Code, string Name, IReadOnlyList<string> Terms, int? TrialDays)
{
    public const int DefaultExpiringNoticeDays = 7;

    /// <summary>Each term's price and growth, in the order of <see cref="Terms"/>.</summary>
    public IReadOnlyList<PlanTermRule> TermRules { get; init; } = [];

    /// <summary>Days before the plan ends that the plan-expiring notice goes out.</summary>
    public int ExpiringNoticeDays { get; init; } = DefaultExpiringNoticeDays;

    public PlanTermRule? Term(string? term)
    {
        foreach (var t in TermRules)
        {
            if (t.Term == term) return t;
        }
        return null;
    }
}

/// <summary>
/// A term a plan sells (<c>P1Y</c>): its list price (null: none given), cheaper prices under conditions, the
/// growth each day of it earns, and the growth earned when such a term starts.
/// </summary>
public sealed record PlanTermRule(string Term, decimal? Price, IReadOnlyList<PriceOffer> Offers, long GrowthPerDay, long BonusGrowth);

/// <summary>A price that applies while <see cref="When"/> holds for the member (the lowest that applies wins).</summary>
public sealed record PriceOffer(Condition When, decimal Price);
