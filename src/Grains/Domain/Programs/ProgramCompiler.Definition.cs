using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orleans.Membership.Domain.Programs;

public static partial class ProgramCompiler
{
    private static readonly string[] RootFields =
        ["id", "version", "name", "currency", "timeZone", "qualifying", "tierValidity", "tiers", "multipliers", "eventTypes", "points", "benefits", "plans"];

    public static ProgramCompilation Compile(string programId, int version, JsonElement definition)
    {
        var errors = new List<ProgramError>();
        if (definition.ValueKind != JsonValueKind.Object)
        {
            return new ProgramCompilation(null, [new ProgramError("$", "the definition must be a JSON object")]);
        }
        var root = new DefinitionReader(definition, "", errors);
        root.Known(RootFields);

        if (root.String("id") is { } id && id != programId) root.Error("id", $"'{id}' does not match the program id '{programId}' of the request");
        var name = root.String("name", required: true);
        if (name is { Length: 0 }) root.Error("name", "must not be empty");
        var currency = root.String("currency", required: true);
        if (currency is not null && (currency.Length != 3 || !currency.All(char.IsAsciiLetterUpper))) root.Error("currency", "must be 3 uppercase letters (ISO 4217, e.g. CNY)");
        var timeZone = ReadTimeZone(root);

        var qualifying = ReadQualifying(root);
        var tierValidity = root.Months("tierValidity");
        var plans = ReadPlans(root);
        var tiers = ReadTiers(root);
        var tierCodes = tiers.Select(t => t.Code).ToList();
        var multipliers = ReadMultipliers(root, tierCodes, plans.Keys);
        var eventTypes = ReadEventTypes(root, multipliers.Keys);
        var counters = eventTypes.Values.SelectMany(t => t.Counters.Keys).ToHashSet(StringComparer.Ordinal);
        var (expiry, soonDays) = ReadPoints(root);
        var benefits = ReadBenefits(root, tiers, plans.Keys, counters);

        if (errors.Count > 0) return new ProgramCompilation(null, errors);

        var canonical = JsonNode.Parse(definition.GetRawText())!.AsObject();
        canonical.Remove("id");
        canonical.Remove("version");
        var program = new MembershipProgram
        {
            Id = programId,
            Version = version,
            Name = name!,
            Currency = currency!,
            TimeZone = timeZone!,
            Qualifying = qualifying,
            Tiers = tiers,
            TierValidityMonths = tierValidity,
            EventTypes = eventTypes.ToFrozenDictionary(StringComparer.Ordinal),
            Multipliers = multipliers.ToFrozenDictionary(StringComparer.Ordinal),
            PointExpiry = expiry,
            ExpiringSoonDays = soonDays,
            Benefits = benefits,
            BenefitsByCode = benefits.ToFrozenDictionary(b => b.Code, StringComparer.Ordinal),
            Plans = plans.ToFrozenDictionary(StringComparer.Ordinal),
            DefinitionJson = canonical.ToJsonString(),
        };
        return new ProgramCompilation(program, []);
    }

    private static TimeZoneInfo? ReadTimeZone(DefinitionReader root)
    {
        var id = root.String("timeZone", required: true);
        if (id is null) return null;
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            root.Error("timeZone", $"'{id}' is not a known IANA time zone (e.g. Asia/Shanghai)");
            return null;
        }
    }

    private static QualifyingWindow ReadQualifying(DefinitionReader root)
    {
        var q = root.Object("qualifying", required: true);
        if (q is null) return new QualifyingWindow(12);
        q.Known("window");
        if (q.String("window", required: true) == "lifetime") return new QualifyingWindow(null);
        return new QualifyingWindow(q.Months("window") ?? 12);
    }

    private static Dictionary<string, Plan> ReadPlans(DefinitionReader root)
    {
        var plans = new Dictionary<string, Plan>(StringComparer.Ordinal);
        foreach (var p in root.Objects("plans"))
        {
            p.Known("code", "name", "terms", "trialDays");
            var code = p.Code("code");
            var name = p.String("name", required: true);
            var terms = p.Strings("terms") ?? [];
            if (!p.Has("terms")) p.Error("terms", "is required");
            else if (terms.Count == 0) p.Error("terms", "must list at least one term (P1M, P1Y, ...)");
            foreach (var term in terms)
            {
                var m = DefinitionReader.TermPattern().Match(term);
                if (!m.Success || int.Parse(m.Groups[1].Value) is < 1 or > 36) p.Error("terms", $"'{term}' must be P<n>M or P<n>Y with n from 1 to 36");
            }
            var trialDays = (int?)p.Integer("trialDays", min: 1, max: 366);
            if (code is null || name is null) continue;
            if (!plans.TryAdd(code, new Plan(code, name, terms, trialDays))) p.Error("code", $"plan '{code}' is defined twice");
        }
        return plans;
    }

    private static List<Tier> ReadTiers(DefinitionReader root)
    {
        var tiers = new List<Tier>();
        var items = root.Objects("tiers", required: true, nonEmpty: true);
        for (var i = 0; i < items.Count; i++)
        {
            var t = items[i];
            t.Known("code", "name", "threshold", "pointMultiplier");
            var code = t.Code("code");
            var name = t.String("name", required: true);
            var threshold = t.Integer("threshold", required: true, min: 0);
            var multiplier = t.Number("pointMultiplier", greaterThan: 0m) ?? 1m;
            if (i == 0 && threshold is > 0) t.Error("threshold", "must be 0: the first tier is the base tier every member starts in");
            if (i > 0 && threshold is { } th && tiers.Count == i && th <= tiers[^1].Threshold)
            {
                t.Error("threshold", $"must be greater than {items[i - 1].Path}.threshold ({tiers[^1].Threshold})");
            }
            if (code is not null && tiers.Any(x => x.Code == code)) t.Error("code", $"tier '{code}' is defined twice");
            if (code is null || name is null || threshold is null) continue;
            tiers.Add(new Tier(code, name, threshold.Value, multiplier, tiers.Count));
        }
        return tiers.Count == items.Count ? tiers : tiers.Count > 0 ? tiers : [new Tier("member", "member", 0, 1m, 0)];
    }

    private static readonly Dictionary<string, DayOfWeek> Weekdays = Enum.GetValues<DayOfWeek>()
        .ToDictionary(d => d.ToString().ToLowerInvariant(), d => d, StringComparer.OrdinalIgnoreCase);

    private static Dictionary<string, Multiplier> ReadMultipliers(DefinitionReader root, List<string> tierCodes, IReadOnlyCollection<string> plans)
    {
        var result = new Dictionary<string, Multiplier>(StringComparer.Ordinal);
        foreach (var m in root.Objects("multipliers"))
        {
            m.Known("name", "factor", "when");
            var name = m.Code("name");
            if (name == BuiltInMultipliers.Tier) m.Error("name", "'tier' is built in (the tier's pointMultiplier); choose another name");
            var factor = m.Number("factor", required: true, greaterThan: 0m);
            var when = m.Object("when", required: true);
            MultiplierCondition? condition = null;
            if (when is not null)
            {
                when.Known("birthdayMonth", "planActive", "weekday", "tiers");
                var set = new[] { "birthdayMonth", "planActive", "weekday", "tiers" }.Count(when.Has);
                if (set != 1) when.Error("", "must have exactly one condition: birthdayMonth, planActive, weekday or tiers");
                var birthday = when.Boolean("birthdayMonth");
                if (birthday == false) when.Error("birthdayMonth", "must be true (leave it out otherwise)");
                var plan = when.String("planActive");
                if (plan is not null && !plans.Contains(plan)) when.Error("planActive", $"'{plan}' is not a defined plan");
                DayOfWeek? weekday = null;
                if (when.String("weekday") is { } w)
                {
                    if (Weekdays.TryGetValue(w, out var d)) weekday = d;
                    else when.Error("weekday", "must be a day name, monday to sunday");
                }
                var tiers = when.Strings("tiers", tierCodes, "tier");
                condition = new MultiplierCondition(birthday == true, plan, weekday, tiers);
            }
            if (name is null || factor is null || condition is null) continue;
            if (!result.TryAdd(name, new Multiplier(name, factor.Value, condition))) m.Error("name", $"multiplier '{name}' is defined twice");
        }
        return result;
    }

    private static Dictionary<string, EventType> ReadEventTypes(DefinitionReader root, IReadOnlyCollection<string> multipliers)
    {
        var result = new Dictionary<string, EventType>(StringComparer.Ordinal);
        var readers = root.Objects("eventTypes", required: true, nonEmpty: true);
        var kinds = new Dictionary<string, EventKind>(StringComparer.Ordinal);
        foreach (var e in readers)
        {
            if (e.String("type") is { } t && e.String("kind") is { } k && Enum.TryParse<EventKind>(k, ignoreCase: true, out var kind)) kinds.TryAdd(t, kind);
        }
        var multiplierNames = multipliers.Append(BuiltInMultipliers.Tier).ToList();
        foreach (var e in readers)
        {
            e.Known("type", "kind", "refunds", "growth", "points", "pointMultipliers", "limit", "counters");
            var type = e.String("type", required: true);
            if (type is not null && !DefinitionReader.EventTypePattern().IsMatch(type)) e.Error("type", "must match ^[a-z][a-z0-9._-]{0,63}$");
            var kindText = e.String("kind", required: true);
            EventKind? kind = kindText switch { "purchase" => EventKind.Purchase, "refund" => EventKind.Refund, "activity" => EventKind.Activity, _ => null };
            if (kindText is not null && kind is null) e.Error("kind", "must be one of purchase, refund, activity");

            string? refunds = null;
            if (kind == EventKind.Refund)
            {
                refunds = e.String("refunds", required: true);
                if (refunds is not null && (!kinds.TryGetValue(refunds, out var rk) || rk != EventKind.Purchase)) e.Error("refunds", $"'{refunds}' is not an event type of kind purchase");
                foreach (var f in new[] { "growth", "points", "pointMultipliers", "limit", "counters" })
                {
                    if (e.Has(f)) e.Error(f, "is not allowed on a refund: a refund recomputes what its purchase earned");
                }
            }
            else if (e.Has("refunds")) e.Error("refunds", "is only allowed on kind refund");

            Formula? growth = null, points = null;
            EarnLimit? limit = null;
            var pointMultipliers = new List<string>();
            var counters = new Dictionary<string, int>(StringComparer.Ordinal);
            if (kind is EventKind.Purchase or EventKind.Activity)
            {
                growth = ReadFormula(e, "growth", kind.Value);
                points = ReadFormula(e, "points", kind.Value);
                if (kind == EventKind.Purchase && !e.Has("growth") && !e.Has("points")) e.Error("", "a purchase must earn growth or points (or both)");
                pointMultipliers = e.Strings("pointMultipliers", multiplierNames, "multiplier") ?? [];
                if (pointMultipliers.Count > 0 && points is null) e.Error("pointMultipliers", "needs points to multiply");
                if (e.Object("limit") is { } l)
                {
                    l.Known("perDay", "perMember");
                    var perDay = (int?)l.Integer("perDay", min: 1, max: 1_000_000);
                    var perMember = (int?)l.Integer("perMember", min: 1, max: 1_000_000);
                    if (!l.Has("perDay") && !l.Has("perMember")) l.Error("", "must set perDay or perMember");
                    limit = new EarnLimit(perDay, perMember);
                }
                if (e.Object("counters") is { } c)
                {
                    foreach (var p in c.Element.EnumerateObject())
                    {
                        if (!DefinitionReader.CodePattern().IsMatch(p.Name)) c.Error(p.Name, "a counter name must match ^[a-z0-9][a-z0-9-]{0,31}$");
                        else if (c.Integer(p.Name, min: 1, max: 1000) is { } n) counters[p.Name] = (int)n;
                    }
                }
            }
            if (type is null || kind is null) continue;
            if (!result.TryAdd(type, new EventType(type, kind.Value, refunds, growth, points, pointMultipliers, limit, counters)))
            {
                e.Error("type", $"event type '{type}' is defined twice");
            }
        }
        return result;
    }

    private static Formula? ReadFormula(DefinitionReader e, string field, EventKind kind)
    {
        var f = e.Object(field);
        if (f is null) return null;
        f.Known("fixed", "perAmount");
        if (f.Has("fixed") == f.Has("perAmount"))
        {
            f.Error("", "must have exactly one of fixed (a whole number) or perAmount (a factor of the amount)");
            return null;
        }
        if (f.Has("perAmount") && kind == EventKind.Activity)
        {
            f.Error("perAmount", "is only allowed on a purchase: an activity has no amount");
            return null;
        }
        var fixedValue = f.Integer("fixed", min: 0, max: 1_000_000_000);
        var perAmount = f.Number("perAmount", greaterThan: 0m);
        return fixedValue is null && perAmount is null ? null : new Formula(fixedValue, perAmount);
    }

    private static (PointExpiry, int) ReadPoints(DefinitionReader root)
    {
        var points = root.Object("points");
        if (points is null) return (new PointExpiry(PointExpiryPolicy.EndOfYear, 1, 0), 60);
        points.Known("expiry", "expiringSoonDays");
        var soon = (int?)points.Integer("expiringSoonDays", min: 0, max: 3650) ?? 60;
        var expiry = points.Object("expiry");
        if (expiry is null) return (new PointExpiry(PointExpiryPolicy.EndOfYear, 1, 0), soon);
        expiry.Known("policy", "yearsAfter", "days");
        var policy = expiry.String("policy", required: true);
        switch (policy)
        {
            case "end-of-year":
                if (expiry.Has("days")) expiry.Error("days", "is only allowed with policy days-after-earning");
                return (new PointExpiry(PointExpiryPolicy.EndOfYear, (int?)expiry.Integer("yearsAfter", min: 0, max: 100) ?? 1, 0), soon);
            case "days-after-earning":
                if (expiry.Has("yearsAfter")) expiry.Error("yearsAfter", "is only allowed with policy end-of-year");
                return (new PointExpiry(PointExpiryPolicy.DaysAfterEarning, 0, (int?)expiry.Integer("days", required: true, min: 1, max: 36500) ?? 1), soon);
            case "never":
                if (expiry.Has("days") || expiry.Has("yearsAfter")) expiry.Error("policy", "never takes no days or yearsAfter");
                return (new PointExpiry(PointExpiryPolicy.Never, 0, 0), soon);
            case null:
                return (new PointExpiry(PointExpiryPolicy.EndOfYear, 1, 0), soon);
            default:
                expiry.Error("policy", "must be one of end-of-year, days-after-earning, never");
                return (new PointExpiry(PointExpiryPolicy.EndOfYear, 1, 0), soon);
        }
    }

    private static List<Benefit> ReadBenefits(DefinitionReader root, List<Tier> tiers, IReadOnlyCollection<string> plans, HashSet<string> counters)
    {
        var result = new List<Benefit>();
        var tierCodes = tiers.Select(t => t.Code).ToList();
        foreach (var b in root.Objects("benefits"))
        {
            b.Known("code", "name", "period", "valueRule", "window", "grants");
            var code = b.Code("code");
            var name = b.String("name", required: true);
            var periodText = b.String("period") ?? "month";
            QuotaPeriod? period = periodText switch { "month" => QuotaPeriod.Month, "year" => QuotaPeriod.Year, "lifetime" => QuotaPeriod.Lifetime, _ => null };
            if (period is null) b.Error("period", "must be one of month, year, lifetime");
            var ruleText = b.String("valueRule") ?? "lowest";
            ValueRule? rule = ruleText switch { "lowest" => ValueRule.Lowest, "highest" => ValueRule.Highest, _ => null };
            if (rule is null) b.Error("valueRule", "must be lowest or highest");

            var window = BenefitWindow.Always;
            if (b.Object("window") is { } w)
            {
                w.Known("birthdayMonth", "fromDayOfMonth");
                window = new BenefitWindow(w.Boolean("birthdayMonth") ?? false, (int?)w.Integer("fromDayOfMonth", min: 1, max: 28));
            }

            var grants = new List<BenefitGrant>();
            foreach (var g in b.Objects("grants", required: true, nonEmpty: true))
            {
                g.Known("tiers", "minTier", "plans", "quota", "earnedBy", "value");
                if (g.Has("tiers") && g.Has("minTier")) g.Error("minTier", "use either tiers or minTier, not both");
                var grantTiers = g.Strings("tiers", tierCodes, "tier") ?? [];
                if (g.String("minTier") is { } min)
                {
                    var from = tierCodes.IndexOf(min);
                    if (from < 0) g.Error("minTier", $"'{min}' is not a defined tier ({string.Join(", ", tierCodes)})");
                    else grantTiers = tierCodes.Skip(from).ToList();
                }
                var grantPlans = g.Strings("plans", plans, "plan") ?? [];
                if (!g.Has("tiers") && !g.Has("minTier") && !g.Has("plans")) g.Error("", "must name tiers, minTier or plans");
                var quota = (int?)g.Integer("quota", min: 1, max: 1_000_000);
                CounterQuota? earnedBy = null;
                if (g.Object("earnedBy") is { } e)
                {
                    e.Known("counter", "every");
                    var counter = e.String("counter", required: true);
                    if (counter is not null && !counters.Contains(counter)) e.Error("counter", $"'{counter}' is not a counter any event type adds to");
                    var every = (int?)e.Integer("every", required: true, min: 1, max: 1_000_000);
                    if (counter is not null && every is not null) earnedBy = new CounterQuota(counter, every.Value);
                }
                if (quota is not null && g.Has("earnedBy")) g.Error("quota", "use either quota or earnedBy, not both");
                var value = g.Number("value", greaterThan: 0m);
                grants.Add(new BenefitGrant(grantTiers, grantPlans, quota, earnedBy, value));
            }
            if (code is null || name is null || period is null || rule is null) continue;
            if (result.Any(x => x.Code == code)) b.Error("code", $"benefit '{code}' is defined twice");
            else result.Add(new Benefit(code, name, period.Value, rule.Value, window, grants));
        }
        return result;
    }
}
