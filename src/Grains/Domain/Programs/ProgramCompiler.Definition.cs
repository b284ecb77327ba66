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
    // Bounds far above any real program's that keep an event's earnings within what a member's sums can hold.
    private const decimal MaxFactor = 1_000;
    private const decimal MaxRate = 1_000_000;

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
        ["day"] = QuotaPeriod.Day,
    };

    private static readonly Dictionary<string, CapTarget> CapTargets = new()
    {
        ["growth"] = CapTarget.Growth,
        ["points"] = CapTarget.Points,
    };

    private static readonly Dictionary<string, CapPeriod> CapPeriods = new()
    {
        ["event"] = CapPeriod.Event,
        ["day"] = CapPeriod.Day,
        ["month"] = CapPeriod.Month,
    };

    private static readonly Dictionary<string, StreakPeriod> StreakPeriods = new()
    {
        ["day"] = StreakPeriod.Day,
        ["month"] = StreakPeriod.Month,
    };

    /// <summary>The parts of a condition (docs/programs.md, "Conditions"), in the order messages list them.</summary>
    private static readonly string[] ConditionKeys =
        ["birthdayMonth", "planActive", "planEnding", "weekday", "tiers", "minTier", "between", "fromDayOfMonth", "anniversary", "attributes"];

    /// <summary>Where a condition is read: events see attributes; a benefit window may be empty and say false.</summary>
    private enum ConditionUse { Event, Member, Window }

    private const string AttributeRule = "must be 1 to 64 letters, digits or '_', starting with a letter";

    [GeneratedRegex(@"\A[A-Za-z][A-Za-z0-9_]{0,63}\z")]
    private static partial Regex AttributePattern();

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
        /// <summary>The multipliers read so far, by name: event types take the attributes their conditions read.</summary>
        private readonly Dictionary<string, Multiplier> _multipliers = new(StringComparer.Ordinal);

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
                "multipliers", "eventTypes", "points", "orders", "benefits", "plans", "regrade", "growthDecline")!;

            CheckId(root);
            var name = root.RequiredString("name");
            var currency = root.RequiredCode("currency", CurrencyPattern(), "must be 3 uppercase letters (an ISO 4217 code such as CNY)");
            var timeZone = ReadTimeZone(root);
            var qualifying = ReadQualifying(root);
            var tierValidity = root.Get("tierValidity") is { } validity
                ? Months(validity, root.PathOf("tierValidity"), lifetimeAllowed: false, orElse: "or null for tiers that never expire")
                : null;
            var regrade = ReadRegrade(root);
            var tiers = ReadTiers(root);
            var decline = ReadDecline(root, qualifying);
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
                RegradeDayOfMonth = regrade,
                Decline = decline,
                EventTypes = eventTypes.ToFrozenDictionary(e => e.Type, StringComparer.Ordinal),
                Multipliers = _multipliers.ToFrozenDictionary(StringComparer.Ordinal),
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
                // The runtime also takes Windows ids and any case: a definition names the zone as IANA spells it,
                // so it reads the same on every node.
                var zone = TimeZoneInfo.FindSystemTimeZoneById(id);
                if (zone.HasIanaId && zone.Id == id) return zone;
                var iana = zone.HasIanaId ? zone.Id : TimeZoneInfo.TryConvertWindowsIdToIanaId(zone.Id, out var converted) ? converted : null;
                _reader.Error("timeZone", iana is null ? $"'{id}' is not an IANA time zone id such as Asia/Shanghai" : $"'{id}' is not an IANA time zone id: write '{iana}'");
                return null;
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

        private int? ReadRegrade(DefinitionObject root)
        {
            var regrade = root.Object("regrade", "dayOfMonth");
            if (regrade is null) return null;
            if (root.Has("tierValidity")) _reader.Error(regrade.Path, "cannot be combined with tierValidity; use one or the other");
            return regrade.RequiredInt32("dayOfMonth", min: 1, max: 28);
        }

        private GrowthDecline? ReadDecline(DefinitionObject root, QualifyingWindow? qualifying)
        {
            var decline = root.Object("growthDecline", "perDay");
            if (decline is null) return null;
            if (qualifying is { IsLifetime: false })
            {
                _reader.Error(decline.Path, "needs qualifying.window \"lifetime\" (growth that declines is one running total, not a trailing window)");
            }
            return decline.RequiredInteger("perDay", min: 1, max: 1_000_000_000) is { } perDay ? new GrowthDecline(perDay) : null;
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
                var threshold = tier.RequiredInteger("threshold", min: 0, max: Members.MemberRules.MaxEarning);
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
                var multiplier = tier.Has("pointMultiplier") ? tier.Positive("pointMultiplier", MaxFactor) : 1m;
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
                var factor = multiplier.RequiredPositive("factor", MaxFactor);
                var when = multiplier.Require("when") is { } w ? ReadCondition(w, multiplier.PathOf("when"), ConditionUse.Event) : null;
                if (name is not null && factor is not null && when is not null)
                {
                    var m = new Multiplier(name, factor.Value, when);
                    multipliers.Add(m);
                    _multipliers.TryAdd(name, m);
                }
            }
            return multipliers;
        }

        /// <summary>
        /// A condition: every part given must hold. Each part is checked on its own, so every bad value is
        /// reported at its path.
        /// </summary>
        private Condition? ReadCondition(JsonElement element, string path, ConditionUse use)
        {
            var errorsBefore = _reader.Errors.Count;
            var when = _reader.Object(element, path, ConditionKeys);
            if (when is null) return null;
            if (use != ConditionUse.Window && !ConditionKeys.Any(when.Has))
            {
                _reader.Error(path, $"must have at least one condition of {string.Join(", ", ConditionKeys)}");
                return null;
            }
            var c = Condition.Always;
            if (when.Boolean("birthdayMonth") is { } birthday)
            {
                if (!birthday && use != ConditionUse.Window) _reader.Error(when.PathOf("birthdayMonth"), "must be true (a condition that never holds is a mistake)");
                c = c with { BirthdayMonth = birthday };
            }
            if (when.Get("planActive") is { } planActive)
            {
                c = c with { PlanActive = Reference(planActive, when.PathOf("planActive"), _names.Plans, "plan", "plans") };
            }
            if (when.Object("planEnding", "plan", "withinDays") is { } ending)
            {
                var plan = ending.Require("plan") is { } p ? Reference(p, ending.PathOf("plan"), _names.Plans, "plan", "plans") : null;
                var days = ending.RequiredInt32("withinDays", min: 1, max: 3650);
                if (plan is not null && days is not null) c = c with { PlanEnding = new PlanEnding(plan, days.Value) };
            }
            if (when.Get("weekday") is { } weekday) c = c with { Weekdays = ReadWeekdays(weekday, when.PathOf("weekday")) };
            if (when.Get("tiers") is { } tierList)
            {
                c = c with { Tiers = References(tierList, when.PathOf("tiers"), _names.Tiers, "tier", "tiers") };
                if (when.Has("minTier")) _reader.Error(when.PathOf("minTier"), "cannot be combined with tiers; use one or the other");
            }
            else if (when.Get("minTier") is { } minTier)
            {
                c = c with { Tiers = MinTier(minTier, when.PathOf("minTier")) };
            }
            if (when.Object("between", "from", "to") is { } between)
            {
                var from = between.Get("from") is { } f ? Instant(f, between.PathOf("from")) : null;
                var to = between.Get("to") is { } t ? Instant(t, between.PathOf("to")) : null;
                if (!between.Has("from") && !between.Has("to")) _reader.Error(between.Path, "must have from, to or both");
                else if (from is { } a && to is { } b && b <= a) _reader.Error(between.PathOf("to"), "must be later than from");
                c = c with { From = from, To = to };
            }
            if (when.Int32("fromDayOfMonth", min: 1, max: 28) is { } fromDay) c = c with { FromDayOfMonth = fromDay };
            if (when.Boolean("anniversary") is { } anniversary)
            {
                if (!anniversary && use != ConditionUse.Window) _reader.Error(when.PathOf("anniversary"), "must be true (a condition that never holds is a mistake)");
                c = c with { Anniversary = anniversary };
            }
            if (when.Get("attributes") is { } attributes)
            {
                if (use != ConditionUse.Event)
                {
                    _reader.Error(when.PathOf("attributes"), "not allowed here: only the conditions of events (multipliers, event types and their rules) can read event attributes");
                }
                else
                {
                    c = c with { Attributes = ReadAttributeMatches(attributes, when.PathOf("attributes")) };
                }
            }
            return _reader.Errors.Count == errorsBefore ? c : null;
        }

        private IReadOnlyList<DayOfWeek>? ReadWeekdays(JsonElement element, string path)
        {
            if (element.ValueKind == JsonValueKind.String)
            {
                return _reader.Choice(element, path, Weekdays) is { } day ? [day] : null;
            }
            var items = _reader.Array(element, path, minCount: 1);
            if (items is null) return null;
            var days = new List<DayOfWeek>();
            foreach (var (item, itemPath) in items)
            {
                if (_reader.Choice(item, itemPath, Weekdays) is not { } day) continue;
                if (days.Contains(day)) _reader.Error(itemPath, $"'{day.ToString().ToLowerInvariant()}' is listed twice");
                else days.Add(day);
            }
            return days.Count == items.Count ? days : null;
        }

        private IReadOnlyList<AttributeMatch>? ReadAttributeMatches(JsonElement element, string path)
        {
            var entries = _reader.Map(element, path);
            if (entries is null) return null;
            if (entries.Count == 0) _reader.Error(path, "must name at least one attribute");
            var matches = new List<AttributeMatch>();
            foreach (var (name, value, valuePath) in entries)
            {
                if (!AttributePattern().IsMatch(name))
                {
                    _reader.Error(valuePath, $"attribute name '{name}' {AttributeRule}");
                    continue;
                }
                var values = new List<string>();
                if (value.ValueKind == JsonValueKind.String)
                {
                    if (_reader.String(value, valuePath) is { } one) values.Add(one);
                }
                else if (_reader.Array(value, valuePath, minCount: 1) is { } items)
                {
                    foreach (var (item, itemPath) in items)
                    {
                        if (_reader.String(item, itemPath) is not { } text) continue;
                        if (values.Contains(text)) _reader.Error(itemPath, $"'{text}' is listed twice");
                        else values.Add(text);
                    }
                }
                if (values.Count > 0) matches.Add(new AttributeMatch(name, values));
            }
            return matches;
        }

        /// <summary>An instant with its offset, as the API takes them: <c>2026-07-01T00:00:00+08:00</c>.</summary>
        private DateTimeOffset? Instant(JsonElement element, string path)
        {
            var text = _reader.String(element, path);
            if (text is null) return null;
            if (IsoInstant.TryRead(text, out var instant)) return instant;
            _reader.Error(path, $"'{text}' {IsoInstant.Rule}");
            return null;
        }

        /// <summary>The tier named and every higher one, by rank (definition order).</summary>
        private IReadOnlyList<string>? MinTier(JsonElement element, string path)
            => Reference(element, path, _names.Tiers, "tier", "tiers") is { } lowest ? [.. _names.Tiers.SkipWhile(code => code != lowest)] : null;

        private List<EventType> ReadEventTypes(DefinitionObject root)
        {
            var eventTypes = new List<EventType>();
            // A program may sell plans only (paid-only programs): no event types at all.
            var items = root.Array("eventTypes", minCount: 0) ?? [];
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
            var e = _reader.Object(element, path, "type", "kind", "refunds", "when", "growth", "points", "pointMultipliers", "rules", "limit", "caps", "counters", "streak");
            if (e is null) return (null, null);
            var errorsBefore = _reader.Errors.Count;
            var type = e.RequiredCode("type", EventTypePattern(), EventTypeRule);
            var kind = e.Require("kind") is null ? null : e.Choice("kind", Kinds);

            string? refunds = null;
            if (kind == EventKind.Refund)
            {
                const string reason = "on a refund: it recomputes the refunded purchase's own growth, points and counters";
                foreach (var field in new[] { "when", "growth", "points", "pointMultipliers", "rules", "limit", "caps", "counters", "streak" }) e.Forbid(field, reason);
                refunds = ReadRefunds(e);
                return (type, _reader.Errors.Count == errorsBefore
                    ? new EventType(type!, EventKind.Refund, refunds, null, null, [], null, FrozenDictionary<string, int>.Empty)
                    : null);
            }
            if (kind is not null)
            {
                e.Forbid("refunds", "unless kind is refund");
                if (kind == EventKind.Purchase && !e.Has("growth") && !e.Has("points") && !RulesEarn(e))
                {
                    _reader.Error(path, "a purchase must earn growth, points or both");
                }
                if (e.Has("pointMultipliers") && !e.Has("points"))
                {
                    _reader.Error(e.PathOf("pointMultipliers"), "only allowed when points is set");
                }
            }

            var attributes = new AttributeUses(_reader);
            var when = e.Get("when") is { } w ? ReadCondition(w, e.PathOf("when"), ConditionUse.Event) : null;
            attributes.Add(when, e.PathOf("when"));
            var growth = ReadFormula(e, "growth", kind, attributes);
            var points = ReadFormula(e, "points", kind, attributes);
            var pointMultipliers = ReadPointMultipliers(e, attributes);
            var rules = ReadRules(e, kind, attributes);
            var limit = ReadLimit(e);
            var caps = ReadCaps(e, growth is not null || rules.Any(r => r.Growth is not null), points is not null || rules.Any(r => r.Points is not null), attributes);
            var (counters, quantities) = ReadCounters(e, attributes);
            var streak = ReadStreak(e);

            if (_reader.Errors.Count != errorsBefore) return (type, null);
            return (type, new EventType(type!, kind!.Value, null, growth, points, pointMultipliers, limit, counters)
            {
                When = when,
                Rules = rules,
                QuantityCounters = quantities,
                Caps = caps,
                Streak = streak,
                Attributes = attributes.ToList(),
                UsesPeriods = limit?.PerMonth is not null || caps.Any(c => c.Per != CapPeriod.Event),
            });
        }

        /// <summary>True when some rule of the type earns growth or points (a purchase may earn through its rules only).</summary>
        private static bool RulesEarn(DefinitionObject e)
            => e.Get("rules") is { ValueKind: JsonValueKind.Array } rules
               && rules.EnumerateArray().Any(r => r.ValueKind == JsonValueKind.Object && (Set(r, "growth") || Set(r, "points")));

        private static bool Set(JsonElement item, string name)
            => item.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

        private IReadOnlyList<string> ReadPointMultipliers(DefinitionObject owner, AttributeUses attributes)
        {
            if (owner.Get("pointMultipliers") is not { } pm) return [];
            var names = References(pm, owner.PathOf("pointMultipliers"), _names.MultipliersWithTier, "multiplier", "multipliers", minCount: 0) ?? [];
            foreach (var name in names)
            {
                if (_multipliers.TryGetValue(name, out var m)) attributes.Add(m.When, owner.PathOf("pointMultipliers"));
            }
            return names;
        }

        private IReadOnlyList<EarnRule> ReadRules(DefinitionObject e, EventKind? kind, AttributeUses attributes)
        {
            var rules = new List<EarnRule>();
            foreach (var (element, path) in e.Array("rules", minCount: 0) ?? [])
            {
                var rule = _reader.Object(element, path, "when", "growth", "points", "pointMultipliers");
                if (rule is null) continue;
                var errorsBefore = _reader.Errors.Count;
                var when = rule.Require("when") is { } w ? ReadCondition(w, rule.PathOf("when"), ConditionUse.Event) : null;
                attributes.Add(when, rule.PathOf("when"));
                var growth = ReadFormula(rule, "growth", kind, attributes);
                var points = ReadFormula(rule, "points", kind, attributes);
                if (rule.Has("pointMultipliers") && !rule.Has("points"))
                {
                    _reader.Error(rule.PathOf("pointMultipliers"), "only allowed when points is set");
                }
                var multipliers = ReadPointMultipliers(rule, attributes);
                if (_reader.Errors.Count == errorsBefore) rules.Add(new EarnRule(when!, growth, points, multipliers));
            }
            return rules;
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

        private Formula? ReadFormula(DefinitionObject e, string name, EventKind? kind, AttributeUses attributes)
        {
            var formula = e.Object(name, "fixed", "perAmount", "of");
            if (formula is null) return null;
            if (formula.Has("fixed") == formula.Has("perAmount"))
            {
                _reader.Error(formula.Path, "must have exactly one of fixed (an amount) or perAmount (a rate per currency unit)");
                return null;
            }
            if (formula.Has("fixed"))
            {
                formula.Forbid("of", "with fixed (of names the attribute perAmount multiplies)");
                return formula.Integer("fixed", min: 0, max: Members.MemberRules.MaxEarning) is { } value ? new Formula(value, null) : null;
            }
            string? of = null;
            if (formula.Get("of") is { } ofElement)
            {
                of = _reader.Code(ofElement, formula.PathOf("of"), AttributePattern(), AttributeRule);
                if (of is not null) attributes.Add(of, AttributeKind.Number, formula.PathOf("of"));
            }
            else if (kind == EventKind.Activity)
            {
                _reader.Error(formula.PathOf("perAmount"), "not allowed for an activity (it has no amount); use fixed");
                return null;
            }
            return formula.Positive("perAmount", MaxRate) is { } rate && (of is not null || !formula.Has("of")) ? new Formula(null, rate, of) : null;
        }

        private EarnLimit? ReadLimit(DefinitionObject e)
        {
            var limit = e.Object("limit", "perDay", "perMonth", "perMember");
            if (limit is null) return null;
            if (!limit.Has("perDay") && !limit.Has("perMonth") && !limit.Has("perMember"))
            {
                _reader.Error(limit.Path, "must have at least one of perDay, perMonth, perMember");
                return null;
            }
            return new EarnLimit(limit.Int32("perDay", min: 1), limit.Int32("perMember", min: 1), limit.Int32("perMonth", min: 1));
        }

        private IReadOnlyList<Cap> ReadCaps(DefinitionObject e, bool earnsGrowth, bool earnsPoints, AttributeUses attributes)
        {
            var caps = new List<Cap>();
            var seen = new Dictionary<(CapTarget, CapPeriod, string?), int>();
            var items = e.Array("caps", minCount: 0) ?? [];
            for (var i = 0; i < items.Count; i++)
            {
                var (element, path) = items[i];
                var cap = _reader.Object(element, path, "on", "per", "max", "by");
                if (cap is null) continue;
                var errorsBefore = _reader.Errors.Count;
                var on = cap.Require("on") is null ? null : cap.Choice("on", CapTargets);
                var per = cap.Require("per") is null ? null : cap.Choice("per", CapPeriods);
                var max = cap.RequiredInteger("max", min: 1, max: 1_000_000_000_000);
                string? by = null;
                if (cap.Get("by") is { } byElement)
                {
                    by = _reader.Code(byElement, cap.PathOf("by"), AttributePattern(), AttributeRule);
                    if (per == CapPeriod.Event) _reader.Error(cap.PathOf("by"), "not allowed with per event (an event has one value of each attribute)");
                    if (by is not null) attributes.Add(by, AttributeKind.Text, cap.PathOf("by"));
                }
                if (on == CapTarget.Growth && !earnsGrowth) _reader.Error(cap.PathOf("on"), "the event type earns no growth");
                if (on == CapTarget.Points && !earnsPoints) _reader.Error(cap.PathOf("on"), "the event type earns no points");
                if (on is { } o && per is { } p && !seen.TryAdd((o, p, by), i))
                {
                    _reader.Error(path, $"caps[{seen[(o, p, by)]}] already caps the same");
                }
                if (_reader.Errors.Count == errorsBefore) caps.Add(new Cap(on!.Value, per!.Value, max!.Value, by));
            }
            return caps;
        }

        private (IReadOnlyDictionary<string, int> Fixed, IReadOnlyDictionary<string, string> Quantities) ReadCounters(DefinitionObject e, AttributeUses attributes)
        {
            var counters = new Dictionary<string, int>(StringComparer.Ordinal);
            var quantities = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = e.Get("counters") is { } element ? _reader.Map(element, e.PathOf("counters")) : null;
            foreach (var (name, value, path) in entries ?? [])
            {
                if (!CodePattern().IsMatch(name))
                {
                    _reader.Error(path, $"counter name '{name}' {CodeRule}");
                    continue;
                }
                if (value.ValueKind == JsonValueKind.Object)
                {
                    var quantity = _reader.Object(value, path, "attribute");
                    if (quantity?.Require("attribute") is { } attribute
                        && _reader.Code(attribute, quantity.PathOf("attribute"), AttributePattern(), AttributeRule) is { } attributeName)
                    {
                        attributes.Add(attributeName, AttributeKind.Integer, quantity.PathOf("attribute"));
                        quantities[name] = attributeName;
                    }
                    continue;
                }
                if (value.ValueKind != JsonValueKind.Number)
                {
                    _reader.Error(path, "must be an integer added per event, or {\"attribute\": name} to add an integer attribute of the event");
                    continue;
                }
                if (_reader.Int32(value, path, min: 1) is { } increment) counters[name] = increment;
            }
            return (counters.ToFrozenDictionary(StringComparer.Ordinal), quantities.ToFrozenDictionary(StringComparer.Ordinal));
        }

        private Streak? ReadStreak(DefinitionObject e)
        {
            var streak = e.Object("streak", "period", "rewards", "cycle");
            if (streak is null) return null;
            var errorsBefore = _reader.Errors.Count;
            var period = streak.Require("period") is null ? null : streak.Choice("period", StreakPeriods);
            var cycle = streak.Int32("cycle", min: 2, max: 366);
            var rewards = new List<StreakReward>();
            if (streak.Require("rewards") is not null)
            {
                foreach (var (element, path) in streak.Array("rewards", minCount: 1) ?? [])
                {
                    var reward = _reader.Object(element, path, "from", "growth", "points");
                    if (reward is null) continue;
                    var from = reward.RequiredInt32("from", min: 1, max: 366);
                    var growth = reward.Integer("growth", min: 0, max: 1_000_000_000) ?? 0;
                    var points = reward.Integer("points", min: 0, max: 1_000_000_000) ?? 0;
                    if (!reward.Has("growth") && !reward.Has("points")) _reader.Error(path, "must have growth, points or both");
                    if (from is not { } f) continue;
                    if (rewards.Count > 0 && f <= rewards[^1].From)
                    {
                        _reader.Error(reward.PathOf("from"), $"must be greater than the row before ({rewards[^1].From}): rows go from the shortest streak up");
                    }
                    else if (cycle is { } c && f > c)
                    {
                        _reader.Error(reward.PathOf("from"), $"can never apply: the streak starts again after {c}");
                    }
                    rewards.Add(new StreakReward(f, growth, points));
                }
            }
            return _reader.Errors.Count == errorsBefore ? new Streak(period!.Value, rewards, cycle) : null;
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

        /// <summary>When the benefit may be used: a condition, where <c>{}</c> (or none) is always.</summary>
        private Condition ReadWindow(DefinitionObject benefit)
            => benefit.Get("window") is { } window ? ReadCondition(window, benefit.PathOf("window"), ConditionUse.Window) ?? Condition.Always : Condition.Always;

        private BenefitGrant? ReadGrant(JsonElement element, string path, QuotaPeriod? period)
        {
            var grant = _reader.Object(element, path, "tiers", "minTier", "plans", "when", "quota", "earnedBy", "value");
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
            else if (grant.Get("minTier") is { } minTier)
            {
                tiers = MinTier(minTier, grant.PathOf("minTier")) ?? [];
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
            var value = grant.Positive("value", max: 1_000_000_000);
            var when = grant.Get("when") is { } w ? ReadCondition(w, grant.PathOf("when"), ConditionUse.Member) : null;
            return _reader.Errors.Count == errorsBefore ? new BenefitGrant(tiers, plans, quota, earnedBy, value) { When = when } : null;
        }

        private List<Plan> ReadPlans(DefinitionObject root)
        {
            var plans = new List<Plan>();
            var items = root.Array("plans", minCount: 0) ?? [];
            var codes = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < items.Count; i++)
            {
                var (element, path) = items[i];
                var plan = _reader.Object(element, path, "code", "name", "terms", "trialDays", "expiringNoticeDays");
                if (plan is null) continue;
                var errorsBefore = _reader.Errors.Count;
                var code = plan.RequiredCode("code", CodePattern(), CodeRule);
                Unique(codes, code, i, plan.PathOf("code"), "plans");
                var name = plan.RequiredString("name");
                var terms = new List<PlanTermRule>();
                if (plan.Require("terms") is not null)
                {
                    foreach (var (termElement, termPath) in plan.Array("terms", minCount: 1) ?? [])
                    {
                        var term = ReadPlanTerm(termElement, termPath);
                        if (term is null) continue;
                        var at = term.Value.Path;
                        if (terms.Any(t => t.Term == term.Value.Rule.Term)) _reader.Error(at, $"'{term.Value.Rule.Term}' is listed twice");
                        else terms.Add(term.Value.Rule);
                    }
                }
                var trialDays = plan.Int32("trialDays", min: 1, max: 365);
                var noticeDays = plan.Int32("expiringNoticeDays", min: 0, max: 365) ?? Plan.DefaultExpiringNoticeDays;
                if (_reader.Errors.Count == errorsBefore)
                {
                    plans.Add(new Plan(code!, name!, [.. terms.Select(t => t.Term)], trialDays) { TermRules = [.. terms], ExpiringNoticeDays = noticeDays });
                }
            }
            return plans;
        }

        /// <summary>A term: <c>"P1Y"</c>, or an object with its price, offers and growth.</summary>
        private (PlanTermRule Rule, string Path)? ReadPlanTerm(JsonElement element, string path)
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                return ReadTerm(element, path) is { } plain ? (new PlanTermRule(plain, null, [], 0, 0), path) : null;
            }
            var term = _reader.Object(element, path, "term", "price", "offers", "growthPerDay", "bonusGrowth");
            if (term is null) return null;
            var errorsBefore = _reader.Errors.Count;
            var code = term.Require("term") is { } t ? ReadTerm(t, term.PathOf("term")) : null;
            var price = term.Get("price") is { } p ? _reader.Money(p, term.PathOf("price")) : null;
            var offers = new List<PriceOffer>();
            foreach (var (offerElement, offerPath) in term.Array("offers", minCount: 0) ?? [])
            {
                var offer = _reader.Object(offerElement, offerPath, "when", "price");
                if (offer is null) continue;
                var when = offer.Require("when") is { } w ? ReadCondition(w, offer.PathOf("when"), ConditionUse.Member) : null;
                var offerPrice = offer.Require("price") is { } op ? _reader.Money(op, offer.PathOf("price")) : null;
                if (when is not null && offerPrice is not null) offers.Add(new PriceOffer(when, offerPrice.Value));
            }
            if (offers.Count > 0 && !term.Has("price")) _reader.Error(term.PathOf("offers"), "needs price (the list price the offers lower)");
            var growthPerDay = term.Integer("growthPerDay", min: 0, max: 1_000_000_000) ?? 0;
            var bonus = term.Integer("bonusGrowth", min: 0, max: 1_000_000_000) ?? 0;
            return _reader.Errors.Count == errorsBefore ? (new PlanTermRule(code!, price, offers, growthPerDay, bonus), term.PathOf("term")) : null;
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

        /// <summary>
        /// The definition as accepted, compact, in the given property order, without id and version, and
        /// without properties set to null (a null is an optional field left out, so it is no change).
        /// </summary>
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
                    WriteWithoutNulls(writer, property);
                }
                writer.WriteEndObject();
            }
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }

        private static void WriteWithoutNulls(Utf8JsonWriter writer, JsonProperty property)
        {
            if (property.Value.ValueKind == JsonValueKind.Null) return;
            writer.WritePropertyName(property.Name);
            WriteWithoutNulls(writer, property.Value);
        }

        private static void WriteWithoutNulls(Utf8JsonWriter writer, JsonElement value)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.Object:
                    writer.WriteStartObject();
                    foreach (var property in value.EnumerateObject()) WriteWithoutNulls(writer, property);
                    writer.WriteEndObject();
                    break;
                case JsonValueKind.Array:
                    writer.WriteStartArray();
                    foreach (var item in value.EnumerateArray()) WriteWithoutNulls(writer, item);
                    writer.WriteEndArray();
                    break;
                default:
                    value.WriteTo(writer);
                    break;
            }
        }
    }

    /// <summary>
    /// The attributes one event type reads, each with what it must be: a use as text and a use as a number
    /// of the same attribute contradict each other; a number also read as a counter's quantity must be whole.
    /// </summary>
    private sealed class AttributeUses(DefinitionReader reader)
    {
        private readonly List<AttributeUse> _uses = [];

        public void Add(Condition? condition, string path)
        {
            foreach (var match in condition?.Attributes ?? []) Add(match.Name, AttributeKind.Text, path);
        }

        public void Add(string name, AttributeKind kind, string path)
        {
            var i = _uses.FindIndex(u => u.Name == name);
            if (i < 0)
            {
                _uses.Add(new AttributeUse(name, kind));
                return;
            }
            var known = _uses[i].Kind;
            if (known == kind) return;
            if (known == AttributeKind.Text || kind == AttributeKind.Text)
            {
                reader.Error(path, $"attribute '{name}' is read as {(kind == AttributeKind.Text ? "text" : "a number")} here but as {(known == AttributeKind.Text ? "text" : "a number")} elsewhere in this event type");
                return;
            }
            _uses[i] = new AttributeUse(name, AttributeKind.Integer);
        }

        public IReadOnlyList<AttributeUse> ToList() => [.. _uses];
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
