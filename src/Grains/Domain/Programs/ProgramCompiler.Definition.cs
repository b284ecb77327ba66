using System.Buffers;
using System.Collections.Frozen;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Orleans.Membership.Domain.Programs;

public static partial class ProgramCompiler
{
    /// <summary>
    /// Validates a definition (format: docs/programs.md) into a program with the given id and version,
    /// or lists every problem found, each at its JSON path.
    /// </summary>
    public static ProgramCompilation Compile(string programId, int version, JsonElement definition)
        => new DefinitionCompiler(programId, version, definition).Compile();

    private const string CodeRule = "must be 1 to 32 lowercase letters, digits or '-', starting with a letter or digit";
    private const string EventTypeRule = "must be 1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter";
    private const int MaxMonths = 120;
    private const int MaxYears = 10;

    [GeneratedRegex(@"\A[a-z0-9][a-z0-9-]{0,31}\z")]
    private static partial Regex CodePattern();

    [GeneratedRegex(@"\A[a-z][a-z0-9._-]{0,63}\z")]
    private static partial Regex EventTypePattern();

    [GeneratedRegex(@"\A[A-Z]{3}\z")]
    private static partial Regex CurrencyPattern();

    [GeneratedRegex(@"\AP([1-9][0-9]{0,2})([MY])\z")]
    private static partial Regex PeriodPattern();

    // Dictionaries (not frozen) so that "must be one of" lists the words in this order.
    private static readonly Dictionary<string, EventKind> Kinds = new()
    {
        ["purchase"] = EventKind.Purchase,
        ["refund"] = EventKind.Refund,
        ["activity"] = EventKind.Activity,
    };

    private static readonly Dictionary<string, PointExpiryPolicy> ExpiryPolicies = new()
    {
        ["end-of-year"] = PointExpiryPolicy.EndOfYear,
        ["days-after-earning"] = PointExpiryPolicy.DaysAfterEarning,
        ["never"] = PointExpiryPolicy.Never,
    };

    private static readonly Dictionary<string, QuotaPeriod> Periods = new()
    {
        ["month"] = QuotaPeriod.Month,
        ["year"] = QuotaPeriod.Year,
        ["lifetime"] = QuotaPeriod.Lifetime,
    };

    private static readonly Dictionary<string, ValueRule> ValueRules = new()
    {
        ["lowest"] = ValueRule.Lowest,
        ["highest"] = ValueRule.Highest,
    };

    private static readonly Dictionary<string, DayOfWeek> Weekdays = new(StringComparer.OrdinalIgnoreCase)
    {
        ["monday"] = DayOfWeek.Monday,
        ["tuesday"] = DayOfWeek.Tuesday,
        ["wednesday"] = DayOfWeek.Wednesday,
        ["thursday"] = DayOfWeek.Thursday,
        ["friday"] = DayOfWeek.Friday,
        ["saturday"] = DayOfWeek.Saturday,
        ["sunday"] = DayOfWeek.Sunday,
    };

    /// <summary>One compilation: reads each section, checks references against <see cref="DefinedNames"/>.</summary>
    private sealed class DefinitionCompiler(string programId, int version, JsonElement definition)
    {
        private readonly DefinitionReader _reader = new();
        private DefinedNames _names = DefinedNames.Empty;

        public ProgramCompilation Compile()
        {
            if (definition.ValueKind != JsonValueKind.Object)
            {
                _reader.Error("$", "must be an object");
                return Failed();
            }
            // Names first, so a reference is checked wherever it appears, whatever the section order.
            _names = DefinedNames.Scan(definition);
            var root = _reader.Object(definition, "",
                "id", "version", "name", "currency", "timeZone", "qualifying", "tierValidity", "tiers",
                "multipliers", "eventTypes", "points", "orders", "benefits", "plans")!;

            CheckId(root);
            var name = root.RequiredString("name");
            var currency = root.RequiredCode("currency", CurrencyPattern(), "must be 3 uppercase letters (an ISO 4217 code such as CNY)");
            var timeZone = ReadTimeZone(root);
            var qualifying = ReadQualifying(root);
            var tierValidity = root.Get("tierValidity") is { } validity
                ? Months(validity, root.PathOf("tierValidity"), lifetimeAllowed: false, orElse: "or null for tiers that never expire")
                : null;
            var tiers = ReadTiers(root);
            var multipliers = ReadMultipliers(root);
            var eventTypes = ReadEventTypes(root);
            var (expiry, expiringSoonDays) = ReadPoints(root);
            var refundableDays = root.Object("orders", "refundableDays")?.Int32("refundableDays", min: 1, max: 3650) ?? 365;
            var benefits = ReadBenefits(root);
            var plans = ReadPlans(root);

            if (_reader.Errors.Count > 0) return Failed();
            if (name is null || currency is null || timeZone is null || qualifying is null)
            {
                throw new InvalidOperationException("A required part of the definition was not read, but no error was recorded.");
            }
            return new ProgramCompilation(new MembershipProgram
            {
                Id = programId,
                Version = version,
                Name = name,
                Currency = currency,
                TimeZone = timeZone,
                Qualifying = qualifying,
                Tiers = [.. tiers],
                TierValidityMonths = tierValidity?.Months,
                EventTypes = eventTypes.ToFrozenDictionary(e => e.Type, StringComparer.Ordinal),
                Multipliers = multipliers.ToFrozenDictionary(m => m.Name, StringComparer.Ordinal),
                PointExpiry = expiry,
                ExpiringSoonDays = expiringSoonDays,
                RefundableDays = refundableDays,
                Benefits = [.. benefits],
                BenefitsByCode = benefits.ToFrozenDictionary(b => b.Code, StringComparer.Ordinal),
                Plans = plans.ToFrozenDictionary(p => p.Code, StringComparer.Ordinal),
                DefinitionJson = CanonicalJson(definition),
            }, []);
        }

        private ProgramCompilation Failed() => new(null, _reader.Errors);

        private void CheckId(DefinitionObject root)
        {
            if (root.Get("id") is not { } element) return;
            var id = _reader.String(element, "id");
            if (id is not null && id != programId)
            {
                _reader.Error("id", $"'{id}' does not match the program id '{programId}'");
            }
        }

        private TimeZoneInfo? ReadTimeZone(DefinitionObject root)
        {
            var id = root.RequiredString("timeZone");
            if (id is null) return null;
            try
            {
                return TimeZoneInfo.FindSystemTimeZoneById(id);
            }
            catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
            {
                _reader.Error("timeZone", $"unknown time zone '{id}'; use an IANA id such as Asia/Shanghai");
                return null;
            }
        }

        private QualifyingWindow? ReadQualifying(DefinitionObject root)
        {
            var qualifying = root.Require("qualifying") is { } element
                ? _reader.Object(element, "qualifying", "window")
                : null;
            if (qualifying?.Require("window") is not { } window) return null;
            return Months(window, qualifying.PathOf("window"), lifetimeAllowed: true, orElse: "or \"lifetime\"");
        }

        /// <summary>A "P&lt;n&gt;M" duration as a window of months; "lifetime" (when allowed) as no limit.</summary>
        private QualifyingWindow? Months(JsonElement element, string path, bool lifetimeAllowed, string orElse)
        {
            var text = _reader.String(element, path);
            if (text is null) return null;
            if (lifetimeAllowed && text == "lifetime") return new QualifyingWindow(null);
            var match = PeriodPattern().Match(text);
            if (match.Success && match.Groups[2].Value == "M" && int.Parse(match.Groups[1].Value) is var months and <= MaxMonths)
            {
                return new QualifyingWindow(months);
            }
            _reader.Error(path, $"'{text}' must be \"P<n>M\" (n months, 1 to {MaxMonths}) {orElse}");
            return null;
        }

        private List<Tier> ReadTiers(DefinitionObject root)
        {
            var tiers = new List<Tier>();
            if (root.Require("tiers") is null) return tiers;
            var items = root.Array("tiers", minCount: 1) ?? [];
            var codes = new Dictionary<string, int>(StringComparer.Ordinal);
            (long Threshold, int Index)? previous = null;
            for (var i = 0; i < items.Count; i++)
            {
                var (element, path) = items[i];
                var tier = _reader.Object(element, path, "code", "name", "threshold", "pointMultiplier");
                if (tier is null) continue;
                var code = tier.RequiredCode("code", CodePattern(), CodeRule);
                Unique(codes, code, i, tier.PathOf("code"), "tiers");
                var name = tier.RequiredString("name");
                var threshold = tier.RequiredInteger("threshold", min: 0);
                if (threshold is { } t)
                {
                    if (i == 0 && t != 0)
                    {
                        _reader.Error(tier.PathOf("threshold"), "must be 0: the first tier is the base tier every member starts in");
                    }
                    else if (previous is { } p && t <= p.Threshold)
                    {
                        _reader.Error(tier.PathOf("threshold"), $"must be greater than tiers[{p.Index}].threshold ({p.Threshold})");
                    }
                    previous = (t, i);
                }
                var multiplier = tier.Has("pointMultiplier") ? tier.Positive("pointMultiplier") : 1m;
                if (code is not null && name is not null && threshold is not null && multiplier is not null)
                {
                    tiers.Add(new Tier(code, name, threshold.Value, multiplier.Value, Rank: i));
                }
            }
            return tiers;
        }

        private List<Multiplier> ReadMultipliers(DefinitionObject root)
        {
            var multipliers = new List<Multiplier>();
            var items = root.Array("multipliers", minCount: 0) ?? [];
            var names = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < items.Count; i++)
            {
                var (element, path) = items[i];
                var multiplier = _reader.Object(element, path, "name", "factor", "when");
                if (multiplier is null) continue;
                var name = multiplier.RequiredCode("name", CodePattern(), CodeRule);
                if (name == BuiltInMultipliers.Tier)
                {
                    _reader.Error(multiplier.PathOf("name"), "'tier' is the built-in multiplier (each tier's pointMultiplier); choose another name");
                    name = null;
                }
                Unique(names, name, i, multiplier.PathOf("name"), "multipliers");
                var factor = multiplier.RequiredPositive("factor");
                var when = multiplier.Require("when") is { } w ? ReadCondition(w, multiplier.PathOf("when")) : null;
                if (name is not null && factor is not null && when is not null)
                {
                    multipliers.Add(new Multiplier(name, factor.Value, when));
                }
            }
            return multipliers;
        }

        private MultiplierCondition? ReadCondition(JsonElement element, string path)
        {
            string[] conditions = ["birthdayMonth", "planActive", "weekday", "tiers"];
            var when = _reader.Object(element, path, conditions);
            if (when is null) return null;
            var present = conditions.Where(when.Has).ToList();
            if (present.Count != 1)
            {
                var which = present.Count == 0 ? "has none" : $"has {present.Count} ({string.Join(", ", present)})";
                _reader.Error(path, $"must have exactly one condition of birthdayMonth, planActive, weekday or tiers; {which}");
                return null;
            }
            switch (present[0])
            {
                case "birthdayMonth":
                    var birthday = when.Boolean("birthdayMonth");
                    if (birthday == false)
                    {
                        _reader.Error(when.PathOf("birthdayMonth"), "must be true (a condition that never holds is a mistake)");
                    }
                    return birthday == true ? new MultiplierCondition(true, null, null, null) : null;
                case "planActive":
                    var plan = Reference(when.Get("planActive")!.Value, when.PathOf("planActive"), _names.Plans, "plan", "plans");
                    return plan is null ? null : new MultiplierCondition(false, plan, null, null);
                case "weekday":
                    var weekday = when.Choice("weekday", Weekdays);
                    return weekday is null ? null : new MultiplierCondition(false, null, weekday, null);
                default:
                    var tiers = References(when.Get("tiers")!.Value, when.PathOf("tiers"), _names.Tiers, "tier", "tiers");
                    return tiers is null ? null : new MultiplierCondition(false, null, null, tiers);
            }
        }

        private List<EventType> ReadEventTypes(DefinitionObject root)
        {
            var eventTypes = new List<EventType>();
            if (root.Require("eventTypes") is null) return eventTypes;
            var items = root.Array("eventTypes", minCount: 1) ?? [];
            var types = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < items.Count; i++)
            {
                var (element, path) = items[i];
                var eventType = ReadEventType(element, path);
                Unique(types, eventType.Type, i, DefinitionReader.PropertyPath(path, "type"), "eventTypes");
                if (eventType.Value is not null) eventTypes.Add(eventType.Value);
            }
            return eventTypes;
        }

        /// <summary>The type name (for the uniqueness check) and the event type, null if anything in it is wrong.</summary>
        private (string? Type, EventType? Value) ReadEventType(JsonElement element, string path)
        {
            var e = _reader.Object(element, path, "type", "kind", "refunds", "growth", "points", "pointMultipliers", "limit", "counters");
            if (e is null) return (null, null);
            var errorsBefore = _reader.Errors.Count;
            var type = e.RequiredCode("type", EventTypePattern(), EventTypeRule);
            var kind = e.Require("kind") is null ? null : e.Choice("kind", Kinds);

            string? refunds = null;
            if (kind == EventKind.Refund)
            {
                const string reason = "on a refund: it recomputes the refunded purchase's own growth, points and counters";
                foreach (var field in new[] { "growth", "points", "pointMultipliers", "limit", "counters" }) e.Forbid(field, reason);
                refunds = ReadRefunds(e);
            }
            else if (kind is not null)
            {
                e.Forbid("refunds", "unless kind is refund");
                if (kind == EventKind.Purchase && !e.Has("growth") && !e.Has("points"))
                {
                    _reader.Error(path, "a purchase must earn growth, points or both");
                }
                if (e.Has("pointMultipliers") && !e.Has("points"))
                {
                    _reader.Error(e.PathOf("pointMultipliers"), "only allowed when points is set");
                }
            }
            if (kind == EventKind.Refund)
            {
                return (type, _reader.Errors.Count == errorsBefore
                    ? new EventType(type!, EventKind.Refund, refunds, null, null, [], null, FrozenDictionary<string, int>.Empty)
                    : null);
            }

            var growth = ReadFormula(e, "growth", kind);
            var points = ReadFormula(e, "points", kind);
            IReadOnlyList<string> pointMultipliers = e.Get("pointMultipliers") is { } pm
                ? References(pm, e.PathOf("pointMultipliers"), _names.MultipliersWithTier, "multiplier", "multipliers", minCount: 0) ?? []
                : [];
            var limit = ReadLimit(e);
            var counters = ReadCounters(e);

            return (type, _reader.Errors.Count == errorsBefore
                ? new EventType(type!, kind!.Value, null, growth, points, pointMultipliers, limit, counters)
                : null);
        }

        private string? ReadRefunds(DefinitionObject e)
        {
            if (e.Require("refunds") is not { } element) return null;
            var path = e.PathOf("refunds");
            var refunded = _reader.String(element, path);
            if (refunded is null) return null;
            if (!_names.EventKinds.TryGetValue(refunded, out var kind))
            {
                _reader.Error(path, Unknown("event type", refunded, _names.EventKinds.Keys, "event types"));
                return null;
            }
            if (kind != "purchase")
            {
                _reader.Error(path, $"'{refunded}' is not a purchase; a refund must name an event type of kind purchase");
                return null;
            }
            return refunded;
        }

        private Formula? ReadFormula(DefinitionObject e, string name, EventKind? kind)
        {
            var formula = e.Object(name, "fixed", "perAmount");
            if (formula is null) return null;
            if (formula.Has("fixed") == formula.Has("perAmount"))
            {
                _reader.Error(formula.Path, "must have exactly one of fixed (an amount) or perAmount (a rate per currency unit)");
                return null;
            }
            if (formula.Has("fixed"))
            {
                return formula.Integer("fixed", min: 0) is { } value ? new Formula(value, null) : null;
            }
            if (kind == EventKind.Activity)
            {
                _reader.Error(formula.PathOf("perAmount"), "not allowed for an activity (it has no amount); use fixed");
                return null;
            }
            return formula.Positive("perAmount") is { } rate ? new Formula(null, rate) : null;
        }

        private EarnLimit? ReadLimit(DefinitionObject e)
        {
            var limit = e.Object("limit", "perDay", "perMember");
            if (limit is null) return null;
            if (!limit.Has("perDay") && !limit.Has("perMember"))
            {
                _reader.Error(limit.Path, "must have perDay, perMember or both");
                return null;
            }
            return new EarnLimit(limit.Int32("perDay", min: 1), limit.Int32("perMember", min: 1));
        }

        private IReadOnlyDictionary<string, int> ReadCounters(DefinitionObject e)
        {
            var counters = new Dictionary<string, int>(StringComparer.Ordinal);
            var entries = e.Get("counters") is { } element ? _reader.Map(element, e.PathOf("counters")) : null;
            foreach (var (name, value, path) in entries ?? [])
            {
                if (!CodePattern().IsMatch(name))
                {
                    _reader.Error(path, $"counter name '{name}' {CodeRule}");
                    continue;
                }
                if (_reader.Int32(value, path, min: 1) is { } increment) counters[name] = increment;
            }
            return counters.ToFrozenDictionary(StringComparer.Ordinal);
        }

        private (PointExpiry Expiry, int ExpiringSoonDays) ReadPoints(DefinitionObject root)
        {
            var defaults = (new PointExpiry(PointExpiryPolicy.EndOfYear, YearsAfter: 1, Days: 0), 60);
            var points = root.Object("points", "expiry", "expiringSoonDays");
            if (points is null) return defaults;
            var expiringSoonDays = points.Int32("expiringSoonDays", min: 0, max: 3650) ?? defaults.Item2;
            var expiry = points.Object("expiry", "policy", "yearsAfter", "days");
            if (expiry is null) return (defaults.Item1, expiringSoonDays);

            var policy = expiry.Require("policy") is null ? null : expiry.Choice("policy", ExpiryPolicies);
            switch (policy)
            {
                case PointExpiryPolicy.EndOfYear:
                    expiry.Forbid("days", "unless policy is days-after-earning");
                    return (new PointExpiry(PointExpiryPolicy.EndOfYear, expiry.Int32("yearsAfter", min: 0, max: 100) ?? 1, 0), expiringSoonDays);
                case PointExpiryPolicy.DaysAfterEarning:
                    expiry.Forbid("yearsAfter", "unless policy is end-of-year");
                    return (new PointExpiry(PointExpiryPolicy.DaysAfterEarning, 0, expiry.RequiredInt32("days", min: 1, max: 36500) ?? 0), expiringSoonDays);
                case PointExpiryPolicy.Never:
                    expiry.Forbid("yearsAfter", "unless policy is end-of-year");
                    expiry.Forbid("days", "unless policy is days-after-earning");
                    return (new PointExpiry(PointExpiryPolicy.Never, 0, 0), expiringSoonDays);
                default:
                    return defaults;
            }
        }

        private List<Benefit> ReadBenefits(DefinitionObject root)
        {
            var benefits = new List<Benefit>();
            var items = root.Array("benefits", minCount: 0) ?? [];
            var codes = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < items.Count; i++)
            {
                var (element, path) = items[i];
                var benefit = _reader.Object(element, path, "code", "name", "period", "valueRule", "window", "grants");
                if (benefit is null) continue;
                var errorsBefore = _reader.Errors.Count;
                var code = benefit.RequiredCode("code", CodePattern(), CodeRule);
                Unique(codes, code, i, benefit.PathOf("code"), "benefits");
                var name = benefit.RequiredString("name");
                var period = benefit.Has("period") ? benefit.Choice("period", Periods) : QuotaPeriod.Month;
                var valueRule = benefit.Has("valueRule") ? benefit.Choice("valueRule", ValueRules) : ValueRule.Lowest;
                var window = ReadWindow(benefit);
                var grants = new List<BenefitGrant>();
                if (benefit.Require("grants") is not null)
                {
                    foreach (var (grantElement, grantPath) in benefit.Array("grants", minCount: 1) ?? [])
                    {
                        if (ReadGrant(grantElement, grantPath, period) is { } grant) grants.Add(grant);
                    }
                }
                if (_reader.Errors.Count == errorsBefore)
                {
                    benefits.Add(new Benefit(code!, name!, period!.Value, valueRule!.Value, window, [.. grants]));
                }
            }
            return benefits;
        }

        private BenefitWindow ReadWindow(DefinitionObject benefit)
        {
            var window = benefit.Object("window", "birthdayMonth", "fromDayOfMonth");
            if (window is null) return BenefitWindow.Always;
            var birthdayMonth = window.Boolean("birthdayMonth") ?? false;
            var fromDay = window.Int32("fromDayOfMonth", min: 1, max: 28);
            return birthdayMonth || fromDay is not null ? new BenefitWindow(birthdayMonth, fromDay) : BenefitWindow.Always;
        }

        private BenefitGrant? ReadGrant(JsonElement element, string path, QuotaPeriod? period)
        {
            var grant = _reader.Object(element, path, "tiers", "minTier", "plans", "quota", "earnedBy", "value");
            if (grant is null) return null;
            var errorsBefore = _reader.Errors.Count;
            if (!grant.Has("tiers") && !grant.Has("minTier") && !grant.Has("plans"))
            {
                _reader.Error(path, "must say who is entitled: tiers, minTier or plans");
            }

            IReadOnlyList<string> tiers = [];
            if (grant.Get("tiers") is { } tierList)
            {
                tiers = References(tierList, grant.PathOf("tiers"), _names.Tiers, "tier", "tiers") ?? [];
                if (grant.Has("minTier")) _reader.Error(grant.PathOf("minTier"), "cannot be combined with tiers; use one or the other");
            }
            else if (grant.Get("minTier") is { } minTier
                && Reference(minTier, grant.PathOf("minTier"), _names.Tiers, "tier", "tiers") is { } lowest)
            {
                // The tier named and every higher one, by rank (definition order).
                tiers = [.. _names.Tiers.SkipWhile(code => code != lowest)];
            }
            IReadOnlyList<string> plans = grant.Get("plans") is { } planList
                ? References(planList, grant.PathOf("plans"), _names.Plans, "plan", "plans") ?? []
                : [];

            var quota = grant.Int32("quota", min: 1);
            CounterQuota? earnedBy = null;
            if (grant.Object("earnedBy", "counter", "every") is { } earned)
            {
                if (grant.Has("quota")) _reader.Error(earned.Path, "cannot be combined with quota; use one or the other");
                if (period is not null and not QuotaPeriod.Lifetime)
                {
                    _reader.Error(earned.Path, "needs the benefit's period to be lifetime (earned uses accumulate and never reset)");
                }
                var counter = earned.RequiredString("counter");
                if (counter is not null && !_names.Counters.Contains(counter))
                {
                    _reader.Error(earned.PathOf("counter"), _names.Counters.Count == 0
                        ? $"unknown counter '{counter}'; no event type has counters"
                        : $"unknown counter '{counter}'; event types count: {string.Join(", ", _names.Counters)}");
                }
                var every = earned.RequiredInt32("every", min: 1);
                if (counter is not null && every is not null) earnedBy = new CounterQuota(counter, every.Value);
            }
            var value = grant.Positive("value");
            return _reader.Errors.Count == errorsBefore ? new BenefitGrant(tiers, plans, quota, earnedBy, value) : null;
        }

        private List<Plan> ReadPlans(DefinitionObject root)
        {
            var plans = new List<Plan>();
            var items = root.Array("plans", minCount: 0) ?? [];
            var codes = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < items.Count; i++)
            {
                var (element, path) = items[i];
                var plan = _reader.Object(element, path, "code", "name", "terms", "trialDays");
                if (plan is null) continue;
                var errorsBefore = _reader.Errors.Count;
                var code = plan.RequiredCode("code", CodePattern(), CodeRule);
                Unique(codes, code, i, plan.PathOf("code"), "plans");
                var name = plan.RequiredString("name");
                var terms = new List<string>();
                if (plan.Require("terms") is not null)
                {
                    foreach (var (termElement, termPath) in plan.Array("terms", minCount: 1) ?? [])
                    {
                        var term = ReadTerm(termElement, termPath);
                        if (term is null) continue;
                        if (terms.Contains(term)) _reader.Error(termPath, $"'{term}' is listed twice");
                        else terms.Add(term);
                    }
                }
                var trialDays = plan.Int32("trialDays", min: 1, max: 365);
                if (_reader.Errors.Count == errorsBefore) plans.Add(new Plan(code!, name!, [.. terms], trialDays));
            }
            return plans;
        }

        private string? ReadTerm(JsonElement element, string path)
        {
            var term = _reader.String(element, path);
            if (term is null) return null;
            var match = PeriodPattern().Match(term);
            if (match.Success && int.Parse(match.Groups[1].Value) <= (match.Groups[2].Value == "M" ? MaxMonths : MaxYears))
            {
                return term;
            }
            _reader.Error(path, $"'{term}' must be \"P<n>M\" (n months, 1 to {MaxMonths}) or \"P<n>Y\" (n years, 1 to {MaxYears})");
            return null;
        }

        /// <summary>Records a repeated code; <paramref name="seen"/> maps each code to its first index.</summary>
        private void Unique(Dictionary<string, int> seen, string? value, int index, string path, string section)
        {
            if (value is not null && !seen.TryAdd(value, index))
            {
                _reader.Error(path, $"'{value}' is already used by {section}[{seen[value]}]");
            }
        }

        private string? Reference(JsonElement element, string path, IReadOnlyCollection<string> defined, string what, string plural)
        {
            var name = _reader.String(element, path);
            if (name is null) return null;
            if (defined.Contains(name)) return name;
            _reader.Error(path, Unknown(what, name, defined, plural));
            return null;
        }

        /// <summary>A list of names that must each be defined, without repeats.</summary>
        private IReadOnlyList<string>? References(
            JsonElement element, string path, IReadOnlyCollection<string> defined, string what, string plural, int minCount = 1)
        {
            var items = _reader.Array(element, path, minCount);
            if (items is null) return null;
            var names = new List<string>();
            foreach (var (item, itemPath) in items)
            {
                var name = Reference(item, itemPath, defined, what, plural);
                if (name is null) continue;
                if (names.Contains(name)) _reader.Error(itemPath, $"'{name}' is listed twice");
                else names.Add(name);
            }
            return names.Count == items.Count ? names : null;
        }

        private static string Unknown(string what, string name, IEnumerable<string> defined, string plural)
        {
            var list = string.Join(", ", defined);
            return list.Length == 0
                ? $"unknown {what} '{name}'; the program defines no {plural}"
                : $"unknown {what} '{name}'; defined {plural}: {list}";
        }

        /// <summary>The definition as accepted, compact, in the given property order, without id and version.</summary>
        private static string CanonicalJson(JsonElement definition)
        {
            var buffer = new ArrayBufferWriter<byte>();
            // Relaxed escaping keeps names such as 黄金会员 readable in the stored and served JSON.
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                writer.WriteStartObject();
                foreach (var property in definition.EnumerateObject())
                {
                    if (property.NameEquals("id") || property.NameEquals("version")) continue;
                    property.WriteTo(writer);
                }
                writer.WriteEndObject();
            }
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
    }

    /// <summary>
    /// The names a definition defines (tier codes in order, plans, multipliers, counters, event kinds),
    /// gathered before validation so references are checked in any order. Malformed entries are skipped
    /// here; the section readers report them.
    /// </summary>
    private sealed record DefinedNames(
        IReadOnlyList<string> Tiers,
        IReadOnlyCollection<string> Plans,
        IReadOnlyCollection<string> MultipliersWithTier,
        IReadOnlyCollection<string> Counters,
        IReadOnlyDictionary<string, string?> EventKinds)
    {
        public static readonly DefinedNames Empty = new([], [], [BuiltInMultipliers.Tier], [], new Dictionary<string, string?>());

        public static DefinedNames Scan(JsonElement root)
        {
            var eventKinds = new Dictionary<string, string?>(StringComparer.Ordinal);
            var counters = new List<string>();
            foreach (var eventType in Items(root, "eventTypes"))
            {
                if (Text(eventType, "type") is { } type) eventKinds.TryAdd(type, Text(eventType, "kind"));
                if (eventType.TryGetProperty("counters", out var c) && c.ValueKind == JsonValueKind.Object)
                {
                    counters.AddRange(c.EnumerateObject().Select(p => p.Name).Where(n => !counters.Contains(n)));
                }
            }
            return new DefinedNames(
                Names(root, "tiers", "code"),
                Names(root, "plans", "code"),
                [BuiltInMultipliers.Tier, .. Names(root, "multipliers", "name").Where(n => n != BuiltInMultipliers.Tier)],
                counters,
                eventKinds);
        }

        private static List<string> Names(JsonElement root, string section, string key)
            => Items(root, section).Select(item => Text(item, key)).OfType<string>().Distinct(StringComparer.Ordinal).ToList();

        private static IEnumerable<JsonElement> Items(JsonElement root, string section)
            => root.TryGetProperty(section, out var items) && items.ValueKind == JsonValueKind.Array
                ? items.EnumerateArray().Where(item => item.ValueKind == JsonValueKind.Object)
                : [];

        private static string? Text(JsonElement item, string key)
            => item.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }
}
