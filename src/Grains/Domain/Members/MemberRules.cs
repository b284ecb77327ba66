using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Domain.Members;

/// <summary>
/// The write rules of a member: <c>(state, program, request, now) -> entries</c>. Every function works
/// on a <see cref="MemberWrite"/> and either emits the entries of a whole change or emits nothing.
/// </summary>
public static class MemberRules
{
    // ---- enrollment -------------------------------------------------------------------------------

    /// <summary>Enrolls (or updates the birthday of) a member. Returns true when it was created.</summary>
    public static WriteResult<bool> Enroll(MemberWrite w, EnrollRequest request)
    {
        if (request.Birthday is { } b && !IsBirthday(b)) return WriteResult<bool>.Invalid("birthday", "must be a date as MM-DD, e.g. 03-15");
        if (request.Birthday is not null && request.ForgetBirthday) return WriteResult<bool>.Invalid("birthday", "is either a date or null, not both");
        var created = !w.State.Enrolled;
        // The ledger writes a removed birthday as "": null in an entry means "not changed".
        var birthday = request.ForgetBirthday && w.State.Birthday is not null ? "" : request.Birthday;
        if (created || (birthday is not null && birthday != w.State.Birthday))
        {
            TimeGrowth.Settle(w);
            w.Emit(new LedgerEntry { Kind = LedgerKinds.Enroll, OccurredAt = w.Now, Birthday = birthday, Note = created ? null : "profile" });
        }
        return WriteResult<bool>.Ok(created);
    }

    public static bool IsBirthday(string s)
        => s.Length == 5 && s[2] == '-'
           && DateTime.TryParseExact("2000-" + s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

    // ---- scoring events -------------------------------------------------------------------------------

    public static EventOutcome ApplyEvent(MemberWrite w, ScoringEvent ev)
    {
        // A seen id answers before the rules are asked: a retry is a duplicate for ever, even after the
        // program dropped or changed the event's type (the ids in the ledger are the authority).
        var canonical = EventAttributes.Canonical(ev.AttributesJson);
        var hash = Fingerprint(ev, canonical);
        if (CallerIds.IsValid(ev.EventId) && w.State.CallerId(ev.EventId) is { } seen)
        {
            // Fingerprints recorded before attributes were compared in canonical form were made from them as sent.
            return seen.BodyHash == hash || (canonical != ev.AttributesJson && seen.BodyHash == Fingerprint(ev, ev.AttributesJson))
                ? EventOutcome.Duplicate
                : EventOutcome.Rejected("eventId", $"eventId '{ev.EventId}' was already used with a different body", "id-reused");
        }
        if (EventValidation.Validate(w.Program, ev, w.Now, out var attributes) is { } problem) return EventOutcome.Rejected(problem.Field, problem.Message);

        var type = w.Program.EventTypes[ev.Type];
        var at = ev.HappenedAt(w.Now).ToUniversalTime();
        return type.Kind switch
        {
            EventKind.Refund => Refund(w, ev, type, at, hash),
            _ => Earn(w, ev, type, at, hash, attributes ?? EventAttributes.Empty),
        };
    }

    /// <summary>An event's fingerprint: its type, occurredAt as sent, orderId, amount and <paramref name="attributes"/>.</summary>
    private static string Fingerprint(ScoringEvent ev, string? attributes)
    {
        var body = new BodyHash(stackalloc byte[256]);
        body.Add("event");
        body.Add(ev.Type);
        body.Add(ev.OccurredAt);
        body.Add(ev.OrderId);
        body.AddMoney(ev.Amount);
        body.Add(attributes);
        return body.Finish();
    }

    private static EventOutcome Earn(MemberWrite w, ScoringEvent ev, EventType type, DateTimeOffset at, string hash, EventAttributes attributes)
    {
        var s = w.State;
        var p = w.Program;
        if (type.Kind == EventKind.Purchase && s.Order(ev.OrderId!) is not null)
        {
            return EventOutcome.Rejected("orderId", $"order '{ev.OrderId}' was already paid", "order-paid");
        }
        TimeGrowth.Settle(w);

        var day = p.DayKey(at);
        Tier? tier = null;
        string? limited = null;
        if (type.When is { } when && !Conditions.Holds(when, p, s, at, ref tier, w, attributes)) limited = "condition";
        else if (type.Limit is { } limit)
        {
            if (limit.PerMember is { } perMember && s.MemberCount(type.Type) >= perMember) limited = $"limit:perMember:{perMember}";
            else if (limit.PerDay is { } perDay && s.DayCount(type.Type, day) >= perDay) limited = $"limit:perDay:{perDay}";
            else if (limit.PerMonth is { } perMonth && s.PeriodUseOf(UseKey(type.Type, null, null, MonthOf(day))).Count >= perMonth) limited = $"limit:perMonth:{perMonth}";
        }

        // The first rule whose condition holds replaces the type's own growth, points and multipliers.
        var (growthRule, pointsRule, multipliers) = (type.Growth, type.Points, type.PointMultipliers);
        for (var i = 0; i < type.Rules.Count; i++)
        {
            var rule = type.Rules[i];
            if (!Conditions.Holds(rule.When, p, s, at, ref tier, w, attributes)) continue;
            (growthRule, pointsRule, multipliers) = (rule.Growth, rule.Points, rule.PointMultipliers);
            break;
        }

        long growth = 0, points = 0;
        decimal? growthFactor = null, pointsFactor = null, growthBase = null, pointsBase = null;
        decimal multiplier = 1m;
        var amount = ev.Amount ?? 0m;
        if (limited is null)
        {
            // A product past decimal's or long's range counts as more than any event may earn (below).
            if (growthRule is { } g)
            {
                growthFactor = g.PerAmount;
                growthBase = g.Of is { } of ? attributes.Number(of) : null;
                try
                {
                    growth = g.PerAmount is { } f ? Floor((growthBase ?? amount) * f) : g.Fixed ?? 0;
                }
                catch (OverflowException)
                {
                    growth = long.MaxValue;
                }
            }
            if (pointsRule is { } pts)
            {
                pointsBase = pts.Of is { } of ? attributes.Number(of) : null;
                try
                {
                    multiplier = PointMultiplier(w, multipliers, at, ref tier, attributes);
                    pointsFactor = pts.PerAmount is { } f ? f * multiplier : null;
                    points = pointsFactor is { } pf ? Floor((pointsBase ?? amount) * pf) : Floor((pts.Fixed ?? 0) * multiplier);
                }
                catch (OverflowException)
                {
                    points = long.MaxValue;
                }
            }
            // Refused rather than wrapped: earnings this far beyond any real program's would overflow the member's sums.
            if (growth > MaxEarning || points > MaxEarning)
            {
                var (what, rule, value) = growth > MaxEarning ? ("growth", growthRule, growth) : ("points", pointsRule, points);
                var earned = value == long.MaxValue ? "more" : value.ToString(CultureInfo.InvariantCulture);
                return EventOutcome.Rejected(FieldOf(rule), $"would earn {earned} {what}; one event earns at most {MaxEarning} (the program's rates and multipliers for '{type.Type}')", "earning-too-large");
            }
            // Bounded events still add up: a member's sums stop at MaxMemberTotal, far below where they would wrap.
            if (s.LifetimeGrowth > MaxMemberTotal - growth || s.LedgerPoints > MaxMemberTotal - points)
            {
                var (what, rule, total) = s.LifetimeGrowth > MaxMemberTotal - growth ? ("lifetime growth", growthRule, s.LifetimeGrowth) : ("points", pointsRule, s.LedgerPoints);
                return EventOutcome.Rejected(FieldOf(rule), $"would take the member's {what} ({total}) past {MaxMemberTotal}, the most a member may hold", "member-total-too-large");
            }
        }

        // Caps on value, in the order given: what each leaves is what the next sees.
        List<string>? uses = null;
        long growthCut = 0, pointsCut = 0;
        string? capped = null;
        if (limited is null && (type.UsesPeriods || type.Caps.Count > 0))
        {
            if (type.Limit?.PerMonth is not null) AddUse(ref uses, UseKey(type.Type, null, null, MonthOf(day)));
            foreach (var cap in type.Caps)
            {
                var target = cap.On == CapTarget.Growth ? growth : points;
                long room;
                if (cap.Per == CapPeriod.Event) room = cap.Max;
                else
                {
                    var key = UseKey(type.Type, cap.By, cap.By is { } by ? attributes.Text(by) : null, cap.Per == CapPeriod.Day ? day : MonthOf(day));
                    AddUse(ref uses, key);
                    var used = s.PeriodUseOf(key);
                    room = Math.Max(0, cap.Max - (cap.On == CapTarget.Growth ? used.Growth : used.Points));
                }
                if (target <= room) continue;
                if (cap.On == CapTarget.Growth) { growthCut += growth - room; growth = room; }
                else { pointsCut += points - room; points = room; }
                capped = capped is null ? Describe(cap) : $"{capped}; {Describe(cap)}";
            }
        }

        // A streak: the first earning event of a period after the last one extends it (or starts it again).
        int streak = 0;
        string? streakPeriod = null;
        StreakReward? reward = null;
        if (limited is null && type.Streak is { } st)
        {
            var period = st.Period == StreakPeriod.Day ? day : MonthOf(day);
            var number = MemberState.PeriodNumber(period);
            var current = s.StreakOf(type.Type);
            if (current is not { } c || number > c.Period)
            {
                streak = current is { } last && IsNextPeriod(last.Period, number, st.Period) ? last.Length + 1 : 1;
                if (st.Cycle is { } cycle && streak > cycle) streak = 1;
                streakPeriod = period;
                foreach (var row in st.Rewards)
                {
                    if (row.From <= streak) reward = row;
                }
            }
        }

        Dictionary<string, int>? quantities = null;
        if (limited is null && type.QuantityCounters.Count > 0)
        {
            quantities = new Dictionary<string, int>(type.Counters, StringComparer.Ordinal);
            foreach (var (counter, attribute) in type.QuantityCounters)
            {
                var n = (int)(attributes.Number(attribute) ?? 0);
                if (n != 0) quantities[counter] = quantities.GetValueOrDefault(counter) + n;
            }
        }
        IReadOnlyDictionary<string, int>? counters = limited is not null ? null
            : quantities is not null ? (quantities.Count > 0 ? quantities : null)
            : type.Counters.Count > 0 ? type.Counters : null;

        var expiresAt = points > 0 ? p.BucketExpiry(at) : null;
        var live = expiresAt is not { } end || w.Now < end;
        var debtPaid = live ? Math.Min(s.Debt, points) : 0;
        var purchase = type.Kind == EventKind.Purchase;
        w.Emit(new LedgerEntry
        {
            Kind = LedgerKinds.Earn,
            OccurredAt = at,
            EventId = ev.EventId,
            BodyHash = hash,
            EventType = type.Type,
            OrderId = purchase ? ev.OrderId : null,
            Amount = purchase ? ev.Amount : null,
            Points = points,
            Growth = growth,
            Multiplier = purchase ? pointsFactor : null,
            GrowthFactor = purchase ? growthFactor : null,
            GrowthBase = purchase ? growthBase : null,
            PointsBase = purchase ? pointsBase : null,
            DebtPaid = debtPaid,
            BucketExpiresAt = expiresAt,
            Period = day,
            Note = limited,
            Counters = counters,
            Reason = limited is null && multiplier != 1m ? $"x{multiplier.ToString(CultureInfo.InvariantCulture)}" : null,
            GrowthCut = growthCut,
            PointsCut = pointsCut,
            Capped = capped,
            Uses = uses,
            Streak = streak,
            StreakPeriod = streakPeriod,
        });
        if (reward is { } r && (r.Growth > 0 || r.Points > 0)) EmitStreakReward(w, type, at, day, streak, r);
        return EventOutcome.Accepted;
    }

    /// <summary>
    /// A streak's reward, as its own entry after the event's: its own bucket, not part of the order (a
    /// refund of the order does not take it back), neither multiplied nor capped.
    /// </summary>
    private static void EmitStreakReward(MemberWrite w, EventType type, DateTimeOffset at, string day, int streak, StreakReward reward)
    {
        var expiresAt = reward.Points > 0 ? w.Program.BucketExpiry(at) : null;
        var live = expiresAt is not { } end || w.Now < end;
        w.Emit(new LedgerEntry
        {
            Kind = LedgerKinds.Earn,
            OccurredAt = at,
            Points = reward.Points,
            Growth = reward.Growth,
            DebtPaid = live ? Math.Min(w.State.Debt, reward.Points) : 0,
            BucketExpiresAt = expiresAt,
            Period = day,
            Streak = streak,
            Reason = "streak:" + type.Type,
        });
    }

    private static bool IsNextPeriod(int last, int number, StreakPeriod period)
    {
        if (period == StreakPeriod.Month)
        {
            var (year, month) = (last / 100, last % 100);
            return number == (month == 12 ? (year + 1) * 100 + 1 : last + 1);
        }
        var next = new DateOnly(last / 10000, last / 100 % 100, last % 100).AddDays(1);
        return number == (next.Year * 100 + next.Month) * 100 + next.Day;
    }

    private static string MonthOf(string day) => day[..7];

    /// <summary>The key of a period count: <c>{type}|{period}</c>, or <c>{type}|{attribute}={value}|{period}</c>.</summary>
    private static string UseKey(string type, string? attribute, string? value, string period)
        => attribute is null ? string.Concat(type, "|", period) : string.Concat(type, "|", attribute, "=", value, "|", period);

    private static void AddUse(ref List<string>? uses, string key)
    {
        uses ??= [];
        if (!uses.Contains(key)) uses.Add(key);
    }

    private static string Describe(Cap cap)
        => $"{(cap.On == CapTarget.Growth ? "growth" : "points")} per {cap.Per.ToString().ToLowerInvariant()}{(cap.By is { } by ? " of each " + by : "")} {cap.Max}";

    /// <summary>The product of the multipliers that apply at <paramref name="at"/>; the tier is the one in force just before.</summary>
    private static decimal PointMultiplier(MemberWrite w, IReadOnlyList<string> names, DateTimeOffset at, ref Tier? tier, EventAttributes attributes)
    {
        var product = 1m;
        for (var i = 0; i < names.Count; i++)
        {
            var name = names[i];
            if (name == BuiltInMultipliers.Tier)
            {
                tier ??= w.TierAt(at).Tier;
                product *= tier.PointMultiplier;
                continue;
            }
            var m = w.Program.Multipliers[name];
            if (Conditions.Holds(m.When, w.Program, w.State, at, ref tier, w, attributes)) product *= m.Factor;
        }
        return product;
    }

    private static EventOutcome Refund(MemberWrite w, ScoringEvent ev, EventType type, DateTimeOffset at, string hash)
    {
        var s = w.State;
        if (s.Order(ev.OrderId!) is not { } order || order.EventType != type.Refunds)
        {
            return EventOutcome.Rejected("orderId", $"order '{ev.OrderId}' was never paid by this member", "unknown-order");
        }
        if (at < order.OccurredAt)
        {
            return EventOutcome.Rejected("occurredAt", $"is before order '{ev.OrderId}' was paid ({order.OccurredAt:O}): a refund cannot precede its order", "refund-before-order");
        }
        var amount = ev.Amount!.Value;
        if (amount > order.Unrefunded)
        {
            return EventOutcome.Rejected("amount", $"refund {Money(amount)} is above what remains unrefunded of order '{ev.OrderId}' ({Money(order.Unrefunded)})", "refund-exceeds");
        }
        TimeGrowth.Settle(w);

        // Growth and points recomputed on what remains (a base read from an attribute shrinks in proportion);
        // never more than the order kept (caps may have cut it).
        var remaining = order.Unrefunded - amount;
        var orderGrowth = s.GrowthOf(order);
        var newGrowth = order.GrowthFactor is { } gf ? Floor(order.RemainingBase(order.GrowthBase, remaining) * gf) : remaining > 0 ? orderGrowth : 0;
        var newPoints = order.PointsFactor is { } pf ? Floor(order.RemainingBase(order.PointsBase, remaining) * pf) : remaining > 0 ? order.Points : 0;
        var growthBack = Math.Max(0, orderGrowth - newGrowth);
        // Where growth declines, a decline may already have taken the order's growth: take back at most what is left.
        if (w.Program.Decline is not null) growthBack = Math.Min(growthBack, Math.Max(0, s.LifetimeGrowth));
        var pointsBack = Math.Max(0, order.Points - newPoints);
        // The order's own bucket first (if still live), then soonest-expiring; what is left becomes debt.
        var draws = new List<BucketDraw>();
        var left = pointsBack;
        var ownIndex = FindBucket(s, order.EarnSeq);
        if (ownIndex >= 0 && s.Buckets[ownIndex] is var own && own.Remaining > 0 && own.IsLiveAt(w.Now))
        {
            var take = Math.Min(left, own.Remaining);
            if (take > 0) draws.Add(new BucketDraw(own.Seq, take, own.ExpiresAt));
            left -= take;
        }
        left = DrawSoonestFirst(s, w.Now, left, draws, skipSeq: order.EarnSeq);

        Dictionary<string, int>? counters = null;
        if (remaining == 0 && order.Counters is { Count: > 0 } given && !order.CountersTakenBack)
        {
            counters = given.ToDictionary(kv => kv.Key, kv => -kv.Value, StringComparer.Ordinal);
        }

        w.Emit(new LedgerEntry
        {
            Kind = LedgerKinds.Clawback,
            OccurredAt = at,
            EventId = ev.EventId,
            BodyHash = hash,
            EventType = type.Type,
            OrderId = ev.OrderId,
            OrderSeq = order.EarnSeq,
            Amount = amount,
            Points = -pointsBack,
            Growth = -growthBack,
            Draws = draws,
            DebtAdded = left,
            Counters = counters,
        });
        return EventOutcome.Accepted;
    }

    private static int FindBucket(MemberState s, long seq)
    {
        for (var i = 0; i < s.Buckets.Count; i++)
        {
            if (s.Buckets[i].Seq == seq) return i;
        }
        return -1;
    }

    /// <summary>Takes up to <paramref name="points"/> from live buckets, soonest-expiring first, then oldest earned. Returns what is left.</summary>
    private static long DrawSoonestFirst(MemberState s, DateTimeOffset now, long points, List<BucketDraw> draws, long skipSeq = -1)
    {
        if (points <= 0) return points;
        var order = s.Buckets
            .Where(b => b.Remaining > 0 && b.Seq != skipSeq && b.IsLiveAt(now))
            .OrderBy(b => b.ExpiresAt ?? DateTimeOffset.MaxValue)
            .ThenBy(b => b.EarnedAt)
            .ThenBy(b => b.Seq);
        foreach (var b in order)
        {
            if (points == 0) break;
            var take = Math.Min(points, b.Remaining);
            draws.Add(new BucketDraw(b.Seq, take, b.ExpiresAt));
            points -= take;
        }
        return points;
    }

    // ---- redemption -----------------------------------------------------------------------------------

    public static WriteResult<RedemptionResult> Redeem(MemberWrite w, RedemptionRequest request)
    {
        if (!CallerIds.IsValid(request.RedemptionId)) return WriteResult<RedemptionResult>.Invalid("redemptionId", CallerIds.Rule);
        if (request.Points <= 0) return WriteResult<RedemptionResult>.Invalid("points", "must be a whole number greater than 0");
        if (!w.State.Enrolled) return WriteResult<RedemptionResult>.NotFound($"the member is not enrolled in program '{w.Program.Id}': only a member redeems points");
        var body = new BodyHash(stackalloc byte[128]);
        body.Add("redeem");
        body.Add(request.Points);
        body.Add(request.Reason);
        var hash = body.Finish();
        if (Replay(w.State, request.RedemptionId, hash, DomainJson.Default.RedemptionResult, out WriteResult<RedemptionResult>? replay)) return replay!;

        var balance = w.State.BalanceAt(w.Now);
        if (balance < request.Points)
        {
            return WriteResult<RedemptionResult>.Conflict("balance", $"balance {balance} is short of {request.Points} points");
        }
        TimeGrowth.Settle(w);
        var draws = new List<BucketDraw>();
        DrawSoonestFirst(w.State, w.Now, request.Points, draws);
        var consumed = draws.GroupBy(d => d.ExpiresAt).Select(g => new ConsumedPoints(g.Key, g.Sum(d => d.Points))).ToList();
        var result = new RedemptionResult(balance - request.Points, consumed);
        w.Emit(new LedgerEntry
        {
            Kind = LedgerKinds.Redeem,
            OccurredAt = w.Now,
            EventId = request.RedemptionId,
            BodyHash = hash,
            Points = -request.Points,
            Draws = draws,
            Reason = request.Reason,
            Response = JsonSerializer.Serialize(result, DomainJson.Default.RedemptionResult),
        });
        return WriteResult<RedemptionResult>.Ok(result);
    }

    // ---- benefits ---------------------------------------------------------------------------------------

    public static WriteResult<BenefitCheck> UseBenefit(MemberWrite w, BenefitUseRequest request)
    {
        if (!CallerIds.IsValid(request.UseId)) return WriteResult<BenefitCheck>.Invalid("useId", CallerIds.Rule);
        if (request.OrderId is { } o && !CallerIds.IsValid(o)) return WriteResult<BenefitCheck>.Invalid("orderId", CallerIds.Rule);
        var hash = Hash("benefit-use", request.Code, request.OrderId);
        // A retry answers as the first time did, even after the program dropped the benefit.
        if (Replay(w.State, request.UseId, hash, DomainJson.Default.BenefitCheck, out WriteResult<BenefitCheck>? replay)) return replay!;
        if (!w.Program.BenefitsByCode.TryGetValue(request.Code, out var benefit)) return WriteResult<BenefitCheck>.NotFound($"benefit '{request.Code}' is not defined by program '{w.Program.Id}'");

        var tier = w.TierAt(w.Now).Tier;
        // A guest is checked as checkout checks it (the base tier's entitlements); its use enrolls it, as an event does.
        var check = MemberQueries.Check(w.State.Enrolled ? w.State : null, w.Program, benefit, w.Now, tier);
        if (!check.Entitled)
        {
            return WriteResult<BenefitCheck>.Conflict(check.Reason!, $"'{benefit.Code}' cannot be used now: {Explain(check.Reason!)}");
        }
        TimeGrowth.Settle(w);
        var after = check with { Remaining = check.Remaining - 1 };
        after = after.Remaining == 0 ? after with { Entitled = false, Reason = "quota" } : after;
        w.Emit(new LedgerEntry
        {
            Kind = LedgerKinds.BenefitUse,
            OccurredAt = w.Now,
            EventId = request.UseId,
            BodyHash = hash,
            BenefitCode = benefit.Code,
            OrderId = request.OrderId,
            Period = w.Program.PeriodKey(benefit.Period, w.Now),
            Response = JsonSerializer.Serialize(after, DomainJson.Default.BenefitCheck),
        });
        return WriteResult<BenefitCheck>.Ok(after);
    }

    private static string Explain(string reason) => reason switch
    {
        "tier" => "the member's tier or plan does not include it",
        "quota" => "the quota of this period is used up",
        "window" => "it is outside the benefit's date window",
        _ => reason,
    };

    // ---- paid plans -------------------------------------------------------------------------------------

    public static WriteResult<SubscriptionView> Subscribe(MemberWrite w, SubscriptionRequest r)
    {
        if (!CallerIds.IsValid(r.SubscriptionEventId)) return WriteResult<SubscriptionView>.Invalid("subscriptionEventId", CallerIds.Rule);
        var body = new BodyHash(stackalloc byte[128]);
        body.Add("subscription");
        body.Add(r.Plan);
        body.Add(r.Action);
        body.Add(r.Term);
        body.Add(r.At);
        var hash = body.Finish();
        // A retry answers as the first time did, even after the program dropped the plan or the term.
        if (Replay(w.State, r.SubscriptionEventId, hash, DomainJson.Default.SubscriptionView, out WriteResult<SubscriptionView>? replay)) return replay!;
        if (!w.Program.Plans.TryGetValue(r.Plan ?? "", out var plan))
        {
            var known = w.Program.Plans.Count == 0 ? "defines no plans" : $"defines {string.Join(", ", w.Program.Plans.Keys)}";
            return WriteResult<SubscriptionView>.Invalid("plan", $"unknown plan '{r.Plan}' (program '{w.Program.Id}' {known})");
        }
        if (r.Action is not ("purchase" or "trial" or "cancel")) return WriteResult<SubscriptionView>.Invalid("action", "must be one of purchase, trial, cancel");
        if (r.Action == "purchase" && (r.Term is null || !plan.Terms.Contains(r.Term)))
        {
            return WriteResult<SubscriptionView>.Invalid("term", $"must be one of {string.Join(", ", plan.Terms)} for a purchase of '{plan.Code}'");
        }
        // A trial's length is the plan's, and a cancel ends what runs: a term there would only mislead the statement.
        if (r.Action != "purchase" && r.Term is not null) return WriteResult<SubscriptionView>.Invalid("term", $"is only for a purchase (a {r.Action} takes none)");
        if (r.At is { } future && future > w.Now + EventValidation.MaxFutureSkew) return WriteResult<SubscriptionView>.Invalid("at", "is more than 5 minutes in the future");

        // Dated ahead by a clock ahead of ours, a plan would be paid for and not yet running: it runs from now.
        var at = (r.At is { } given && given < w.Now ? given : w.Now).ToUniversalTime();
        var state = w.State.Plan(plan.Code);
        var chainEnd = state?.ExpiresAt is { } e && e > at ? e : (DateTimeOffset?)null;
        // A term runs at the action's date: what was recorded, placed by date, not what arrived last.
        var running = state?.Terms.FirstOrDefault(t => t.Start <= at && at < t.End);
        PlanTerm? term = null;
        DateTimeOffset end;
        switch (r.Action)
        {
            case "trial":
                if (plan.TrialDays is not { } days) return WriteResult<SubscriptionView>.Conflict("no-trial", $"plan '{plan.Code}' has no trial");
                if (state?.TrialUsed == true) return WriteResult<SubscriptionView>.Conflict("trial-used", $"the member already had the trial of '{plan.Code}'");
                if (running is not null) return WriteResult<SubscriptionView>.Conflict("active", $"'{plan.Code}' is already running at {at:O}, until {running.End:O}");
                term = new PlanTerm(at, at, IsTrial: true, "P" + days.ToString(CultureInfo.InvariantCulture) + "D", at);
                break;
            case "purchase":
                // Terms bought ahead stack without bound; the calendar's does not.
                if ((chainEnd ?? at) > DateTimeOffset.MaxValue.AddYears(-LongestTermYears - 1))
                {
                    return WriteResult<SubscriptionView>.Invalid("term", $"would end after the year 9999: '{plan.Code}' already runs until {chainEnd ?? at:O}");
                }
                term = new PlanTerm(at, at, IsTrial: false, r.Term, at);
                break;
            default:
                if (chainEnd is null) return WriteResult<SubscriptionView>.Conflict("not-active", $"'{plan.Code}' is not running, nothing to cancel");
                // Dated before its first term began, a cancel would stop a plan the member did not have yet.
                if (state!.Terms.All(t => t.Start > at)) return WriteResult<SubscriptionView>.Conflict("not-active", $"'{plan.Code}' had not started at {at:O}, nothing to cancel");
                break;
        }
        // A term dated before terms already recorded pushes them back whole: the plan's end moves by its length.
        var start = at;
        if (term is not null)
        {
            var terms = (state ?? PlanState.New(plan.Code)).Placed(term, out var placed);
            start = placed.Start;
            end = terms.Max(t => t.End);
        }
        else end = chainEnd!.Value;

        // The plan as this entry leaves it is the answer, emitted with the entry.
        var entry = new LedgerEntry
        {
            Kind = LedgerKinds.Subscription,
            OccurredAt = at,
            EventId = r.SubscriptionEventId,
            BodyHash = hash,
            Plan = plan.Code,
            PlanAction = r.Action,
            PlanTerm = term?.Term,
            PlanStartsAt = start,
            PlanExpiresAt = end,
        };
        var view = MemberQueries.Subscription((state ?? PlanState.New(plan.Code)).With(entry), w.Now)!;
        TimeGrowth.Settle(w);
        w.Emit(entry with { Response = JsonSerializer.Serialize(view, DomainJson.Default.SubscriptionView) });
        // A term that has started by now earns its bonus with the purchase; a later one when it starts (TimeGrowth).
        if (r.Action == "purchase" && start <= w.Now && plan.Term(r.Term)?.BonusGrowth is > 0 and var bonus)
        {
            w.Emit(new LedgerEntry { Kind = LedgerKinds.Accrual, OccurredAt = start, Growth = bonus, Runs = [new GrowthRun(start, 1, bonus, TimeGrowth.BonusRule)] });
        }
        return WriteResult<SubscriptionView>.Ok(view);
    }

    /// <summary>At least as long as any term a definition may name (P&lt;n&gt;Y, P&lt;n&gt;M).</summary>
    private const int LongestTermYears = 100;

    // ---- derived entries --------------------------------------------------------------------------------

    /// <summary>
    /// Writes what time has made due by <see cref="MemberWrite.Now"/>: the growth time brought (an
    /// <c>accrual</c>), an <c>expire</c> for every bucket past its end with points left, and a <c>tier</c>
    /// entry for each tier period that started since the one last reported.
    /// </summary>
    public static void WriteDue(MemberWrite w)
    {
        if (!w.State.Enrolled) return;
        TimeGrowth.Settle(w);
        List<PointBucket>? expired = null;
        foreach (var b in w.State.Buckets)
        {
            if (b.Remaining > 0 && !b.IsLiveAt(w.Now)) (expired ??= []).Add(b);
        }
        if (expired is not null)
        {
            foreach (var b in expired.OrderBy(b => b.ExpiresAt).ThenBy(b => b.Seq))
            {
                w.Emit(new LedgerEntry { Kind = LedgerKinds.Expire, OccurredAt = b.ExpiresAt!.Value, Points = -b.Remaining, BucketSeq = b.Seq, BucketExpiresAt = b.ExpiresAt });
            }
        }

        var reportedSince = w.State.ReportedPeriodStart;
        bool Reported(TierStatus t) => w.State.IsReported(w.Program, t.Tier.Code, t.Since, t.ValidUntil);
        var tier = w.TierAt(w.Now);
        if (Reported(tier)) return;
        // Every period since the one last reported gets its entry (the contract's "every change of tier"):
        // a re-grade that passed while the member wrote nothing, or an upgrade by an earlier event of this
        // write. Walked back from now one period start at a time; one before the growth checkpoint (a member
        // idle for longer than the refund window) throws HistoryNeededException, and the write runs again
        // on the whole history.
        var periods = new List<TierStatus> { tier };
        for (var p = tier; p.Since > reportedSince;)
        {
            var before = w.TierAt(p.Since.AddTicks(-1));
            // One that began before the period last reported is history a late event or a refund rewrote: not written.
            if (Reported(before) || before.Since >= p.Since || before.Since < reportedSince) break;
            periods.Add(p = before);
        }
        var from = w.State.ReportedTier ?? w.Program.BaseTier.Code;
        for (var i = periods.Count - 1; i >= 0; i--)
        {
            var period = periods[i];
            // A period that starts before the last tier entry's date rewrites history (a refund withdrew an
            // upgrade, or that entry corrected history itself): dated at its start, it would sort before it.
            var rewrite = (w.State.ReportedTierAt ?? w.State.ReportedTierSince) is { } lastReported && period.Since < lastReported;
            w.Emit(new LedgerEntry
            {
                Kind = LedgerKinds.Tier,
                OccurredAt = rewrite ? w.Now : period.Since,
                TierSince = rewrite ? period.Since : null,
                TierFrom = from,
                TierTo = period.Tier.Code,
                TierValidUntil = period.ValidUntil,
            });
            from = period.Tier.Code;
        }
    }

    // ---- idempotency ----------------------------------------------------------------------------------

    private static bool Replay<T>(MemberState s, string id, string hash, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info, out WriteResult<T>? result)
    {
        result = null;
        if (s.CallerId(id) is not { } seen) return false;
        result = seen.BodyHash == hash && seen.Response is not null
            ? WriteResult<T>.Ok(JsonSerializer.Deserialize(seen.Response, info)!, replayed: true)
            : WriteResult<T>.Conflict("id-reused", $"id '{id}' was already used with a different request");
        return true;
    }

    private static string? Money(decimal? amount) => amount?.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>A fingerprint of a request body: same body, same hash (<see cref="BodyHash"/>).</summary>
    public static string Hash(params ReadOnlySpan<string?> parts)
    {
        var body = new BodyHash(stackalloc byte[128]);
        foreach (var part in parts) body.Add(part);
        return body.Finish();
    }

    /// <summary>What one event may earn, in growth or in points: a bound far above any program's, far below what overflows a member's sums.</summary>
    public const long MaxEarning = 1_000_000_000_000_000;

    /// <summary>What a member's lifetime growth and points may reach: a thousand of the largest events, a ninth of long's range.</summary>
    public const long MaxMemberTotal = 1_000 * MaxEarning;

    private static long Floor(decimal value) => (long)decimal.Floor(value);

    /// <summary>The field an earning comes from: the attribute it reads, the amount, or the type's fixed value.</summary>
    private static string FieldOf(Formula? rule) => rule?.Of is { } attribute ? $"attributes.{attribute}" : rule?.PerAmount is not null ? "amount" : "type";
}
