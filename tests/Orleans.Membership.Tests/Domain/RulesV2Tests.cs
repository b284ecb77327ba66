using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Domain.Programs;
using Orleans.Membership.Tests.Support;
using static Orleans.Membership.Tests.Support.MemberHarness;

namespace Orleans.Membership.Tests.Domain;

/// <summary>
/// The rules a program can say since Rules v2 (docs/programs.md): conditions that combine, event attributes,
/// caps on value, benefit windows and daily quotas, streaks, plan prices, calendar re-grades. Each case is
/// computed by hand from the rules of a shipped program or of a small program written here.
/// </summary>
public sealed class RulesV2Tests
{
    private static readonly Lazy<MembershipProgram> s_vipshop = new(() => TestPrograms.Load("vipshop"));
    private static readonly Lazy<MembershipProgram> s_taobao = new(() => TestPrograms.Load("taobao"));
    private static readonly Lazy<MembershipProgram> s_jd = new(() => TestPrograms.Load("jd"));
    private static readonly Lazy<MembershipProgram> s_netease = new(() => TestPrograms.Load("netease"));
    private static readonly Lazy<MembershipProgram> s_coffee = new(() => TestPrograms.Load("coffee"));
    private static readonly Lazy<MembershipProgram> s_sams = new(() => TestPrograms.Load("sams"));

    private static MemberHarness Member(MembershipProgram program, string? birthday = null, string? now = null)
    {
        var m = new MemberHarness(program);
        if (now is not null) m.Now = At(now);
        m.Enroll(birthday);
        return m;
    }

    private static MembershipProgram Compile(string json)
    {
        var result = ProgramCompiler.Compile("lab", 1, json);
        return result.Program ?? throw new InvalidOperationException(string.Join("; ", result.Errors));
    }

    // ---- conditions ---------------------------------------------------------------------------------------

    private static readonly Lazy<MembershipProgram> s_lab = new(() => Compile("""
        {
          "name": "Lab", "currency": "CNY", "timeZone": "Asia/Shanghai",
          "qualifying": { "window": "P12M" }, "tierValidity": "P12M",
          "tiers": [ { "code": "basic", "name": "Basic", "threshold": 0 }, { "code": "gold", "name": "Gold", "threshold": 1000 } ],
          "eventTypes": [ { "type": "order.paid", "kind": "purchase", "growth": { "perAmount": 1 } } ],
          "plans": [ { "code": "vip", "name": "VIP", "terms": ["P1M"], "trialDays": 7 } ]
        }
        """));

    public static TheoryData<string, string, bool> ConditionCases => new()
    {
        // part, instant (Shanghai), holds for a gold member born in March, VIP from 2026-03-01 to 2026-04-01, joined 2025-03-10
        { """{ "birthdayMonth": true }""", "2026-03-31T23:59:59+08:00", true },
        { """{ "birthdayMonth": true }""", "2026-04-01T00:00:00+08:00", false },
        { """{ "birthdayMonth": true, "planActive": "vip" }""", "2026-03-15T10:00:00+08:00", true },
        { """{ "birthdayMonth": true, "planActive": "vip" }""", "2026-02-27T10:00:00+08:00", false },
        { """{ "weekday": "wednesday" }""", "2026-03-18T00:00:00+08:00", true },
        { """{ "weekday": ["saturday", "sunday"] }""", "2026-03-18T10:00:00+08:00", false },
        { """{ "tiers": ["gold"], "planActive": "vip" }""", "2026-03-20T10:00:00+08:00", true },
        { """{ "minTier": "gold", "planActive": "vip" }""", "2026-04-01T09:59:59+08:00", true },
        { """{ "minTier": "gold", "planActive": "vip" }""", "2026-04-01T10:00:00+08:00", false },
        { """{ "tiers": ["basic"] }""", "2026-03-01T08:59:59+08:00", true },
        { """{ "between": { "from": "2026-03-10T00:00:00+08:00", "to": "2026-03-11T00:00:00+08:00" } }""", "2026-03-10T00:00:00+08:00", true },
        { """{ "between": { "from": "2026-03-10T00:00:00+08:00", "to": "2026-03-11T00:00:00+08:00" } }""", "2026-03-11T00:00:00+08:00", false },
        { """{ "between": { "to": "2026-03-11T00:00:00+08:00" } }""", "2026-03-10T23:59:59+08:00", true },
        { """{ "fromDayOfMonth": 2 }""", "2026-03-01T23:59:59+08:00", false },
        { """{ "fromDayOfMonth": 2 }""", "2026-03-02T00:00:00+08:00", true },
        { """{ "planEnding": { "plan": "vip", "withinDays": 7 } }""", "2026-03-25T10:00:00+08:00", true },
        { """{ "planEnding": { "plan": "vip", "withinDays": 7 } }""", "2026-03-24T09:59:59+08:00", false },
        { """{ "planEnding": { "plan": "vip", "withinDays": 7 } }""", "2026-04-01T10:00:00+08:00", false },
        { """{ "anniversary": true }""", "2026-03-10T00:00:00+08:00", true },
        { """{ "anniversary": true }""", "2026-03-11T00:00:00+08:00", false },
        { """{ "anniversary": true, "weekday": "tuesday" }""", "2026-03-10T12:00:00+08:00", true },
    };

    [Theory]
    [MemberData(nameof(ConditionCases))]
    public void A_condition_holds_when_every_part_holds(string json, string at, bool holds)
    {
        var program = Compile(s_lab.Value.DefinitionJson.Replace("\"tierValidity\":\"P12M\",",
            "\"tierValidity\":\"P12M\",\"multipliers\":[{\"name\":\"probe\",\"factor\":2,\"when\":" + json + "}],"));
        var m = Member(program, birthday: "03-20", now: "2025-03-10T10:00:00+08:00");
        m.Now = At("2026-04-10T12:00:00+08:00");
        m.Paid("big", 1000m, "2026-03-01T09:00:00+08:00"); // gold from here
        m.Plan("purchase", term: "P1M", at: "2026-03-01T10:00:00+08:00", plan: "vip");
        Tier? tier = null;
        var w = new MemberWrite(m.State, program, m.Now);
        Assert.Equal(holds, Conditions.Holds(program.Multipliers["probe"].When, program, m.State, At(at), ref tier, w));
    }

    [Theory]
    // Cairo skips 2026-04-24 00:00 (to 01:00), Santiago 2026-09-06 00:00: those days start at 01:00.
    [InlineData("Africa/Cairo", 24, "2026-04-01T10:00:00+02:00", "2026-04-24T01:00:00+03:00")]
    [InlineData("America/Santiago", 6, "2026-08-20T10:00:00-04:00", "2026-09-06T01:00:00-03:00")]
    public void A_day_whose_midnight_the_zone_skips_starts_when_its_clocks_jump(string zone, int regradeDay, string orderAt, string dayStart)
    {
        var program = Compile(s_lab.Value.DefinitionJson
            .Replace("\"Asia/Shanghai\"", $"\"{zone}\"")
            .Replace("\"tierValidity\":\"P12M\"", $"\"regrade\":{{\"dayOfMonth\":{regradeDay}}}"));
        var start = At(dayStart);
        Assert.Equal(start, program.TierValidUntil(At(orderAt)));
        Assert.Equal(start, program.NextDayStart(start.AddHours(-2)));
        Assert.Equal(start, program.NextPeriodStart(QuotaPeriod.Day, start.AddHours(-2)));
        Assert.Equal(program.DayKey(start), program.DayKey(start.AddHours(22))); // a day of 23 hours

        // The member's order lifts it to gold until that re-grade (before: 500 on the order, for good).
        var m = Member(program, now: orderAt);
        m.Paid("o1", 1000m, orderAt);
        var tier = m.Summary().Tier;
        Assert.Equal(("gold", (DateTimeOffset?)start), (tier.Code, tier.ValidUntil));
    }

    [Fact]
    public void After_a_date_the_zone_skipped_whole_the_next_day_starts_after_it()
    {
        // Samoa went from -10 to +14 at the end of 2011-12-29: there was no 2011-12-30 in Apia.
        var program = Compile(s_lab.Value.DefinitionJson.Replace("\"Asia/Shanghai\"", "\"Pacific/Apia\""));
        Assert.Equal(At("2011-12-31T00:00:00+14:00"), program.NextDayStart(At("2011-12-29T12:00:00-10:00")));
        Assert.Equal(At("2011-12-29T00:00:00-10:00"), program.NextDayStart(At("2011-12-28T12:00:00-10:00")));
    }

    [Fact]
    public void A_membership_anniversary_of_29_february_is_28_february_in_other_years()
    {
        var program = s_lab.Value;
        var m = Member(program, now: "2024-02-29T10:00:00+08:00");
        Assert.True(Conditions.IsAnniversary(program, m.State, new DateTime(2025, 2, 28)));
        Assert.False(Conditions.IsAnniversary(program, m.State, new DateTime(2024, 2, 29)));
        Assert.True(Conditions.IsAnniversary(program, m.State, new DateTime(2028, 2, 29)));
        Assert.False(Conditions.IsAnniversary(program, m.State, new DateTime(2028, 2, 28)));
    }

    [Theory]
    [InlineData(false, "2026-11-20T10:00:00+08:00", 100)] // no 88VIP: birthday month alone doubles nothing
    [InlineData(true, "2026-11-20T10:00:00+08:00", 200)]  // 88VIP and birthday month
    [InlineData(true, "2026-12-01T10:00:00+08:00", 100)]  // 88VIP outside the birthday month
    [InlineData(false, "2026-11-11T10:00:00+08:00", 200)] // double 11 (积分加倍) alone
    [InlineData(true, "2026-11-11T23:59:59+08:00", 400)]  // both
    [InlineData(true, "2026-11-12T00:00:00+08:00", 200)]  // the campaign ends at 11-12 00:00 (exclusive)
    public void Taobao_doubles_points_for_88vip_birthdays_and_on_double_11(bool vip, string at, long points)
    {
        var m = Member(s_taobao.Value, birthday: "11-05", now: "2026-12-05T12:00:00+08:00");
        if (vip) m.Plan("purchase", term: "P1Y", at: "2026-11-01T00:00:00+08:00", plan: "88vip");
        m.Paid("o1", 100m, at, attributes: """{"category":"food","shop":"s1"}""");
        Assert.Equal(points, m.Balance);
    }

    // ---- event attributes ---------------------------------------------------------------------------------

    [Fact]
    public void Vipshop_v_value_is_five_times_the_qualified_amount_and_refunds_shrink_it_in_proportion()
    {
        var m = Member(s_vipshop.Value);
        Assert.Equal(EventStatus.Accepted, m.Paid("o1", 120m, "2026-11-01T10:00:00+08:00", attributes: """{"qualifiedAmount": 100}""").Status);
        Assert.Equal((500L, 100L), (m.Summary().Growth.Lifetime, m.Balance));
        var earn = m.Ledger.Single(e => e.Kind == LedgerKinds.Earn);
        Assert.Equal((100m, 100m), (earn.GrowthBase, earn.PointsBase));

        // Half the paid amount back: the qualified base is 100 x 60/120 = 50, worth 250 growth and 50 points.
        m.Refunded("o1", 60m, "2026-11-02T10:00:00+08:00");
        var claw = m.Ledger[^1];
        Assert.Equal((LedgerKinds.Clawback, -250L, -50L), (claw.Kind, claw.Growth, claw.Points));
        m.Refunded("o1", 60m, "2026-11-03T10:00:00+08:00");
        Assert.Equal((0L, 0L), (m.Summary().Growth.Lifetime, m.Balance));
    }

    [Theory]
    [InlineData(null, "attributes.qualifiedAmount", "is required for 'order.paid'")]
    [InlineData("""{}""", "attributes.qualifiedAmount", "is required for 'order.paid'")]
    [InlineData("""{"qualifiedAmount": "100"}""", "attributes.qualifiedAmount", "must be a number from 0 to 1000000000 with at most 2 decimals")]
    [InlineData("""{"qualifiedAmount": 1.005}""", "attributes.qualifiedAmount", "must be a number from 0 to 1000000000 with at most 2 decimals")]
    [InlineData("""{"qualifiedAmount": -1}""", "attributes.qualifiedAmount", "must be a number from 0 to 1000000000 with at most 2 decimals")]
    [InlineData("""{"qualifiedAmount": 1000000000.01}""", "attributes.qualifiedAmount", "must be a number from 0 to 1000000000 with at most 2 decimals")]
    [InlineData("""[1]""", "attributes", "must be a JSON object")]
    public void An_event_without_an_attribute_its_rules_read_is_rejected_naming_it(string? attributes, string field, string message)
    {
        var m = Member(s_vipshop.Value);
        var outcome = m.Paid("o1", 120m, "2026-11-01T10:00:00+08:00", attributes: attributes);
        Assert.Equal((EventStatus.Rejected, field, message), (outcome.Status, outcome.Field, outcome.Error));
        Assert.Single(m.Ledger); // the enrollment only
    }

    [Fact]
    public void A_counter_adds_a_quantity_attribute_and_a_full_refund_takes_it_back()
    {
        var m = Member(s_coffee.Value);
        m.Paid("c1", 60m, "2026-11-02T09:00:00+08:00", attributes: """{"cups": 4}""");
        m.Paid("c2", 45m, "2026-11-03T09:00:00+08:00", attributes: """{"cups": 3}""");
        m.Paid("c3", 45m, "2026-11-05T09:00:00+08:00", attributes: """{"cups": 3}""");
        Assert.Equal(10, m.State.Counter("stamps"));
        Assert.Equal(1, m.Check("free-drink").Remaining);
        m.Refunded("c3", 45m, "2026-11-05T10:00:00+08:00");
        Assert.Equal(7, m.State.Counter("stamps"));
        Assert.Equal(0, m.Check("free-drink").Remaining);
        var rejected = m.Paid("c4", 15m, "2026-11-06T09:00:00+08:00", attributes: """{"cups": 1.5}""");
        Assert.Equal(("attributes.cups", "must be a whole number from 0 to 1000000"), (rejected.Field, rejected.Error));
    }

    [Fact]
    public void The_first_rule_whose_condition_holds_decides_what_an_event_earns()
    {
        var program = Compile("""
            {
              "name": "Rules", "currency": "CNY", "timeZone": "Asia/Shanghai", "qualifying": { "window": "lifetime" },
              "tiers": [ { "code": "basic", "name": "Basic", "threshold": 0 } ],
              "eventTypes": [
                { "type": "order.paid", "kind": "purchase", "growth": { "perAmount": 1 }, "points": { "perAmount": 1 },
                  "rules": [
                    { "when": { "attributes": { "category": ["gift-card"] } } },
                    { "when": { "attributes": { "category": ["food", "drink"] } }, "growth": { "perAmount": 2 }, "points": { "fixed": 10 } }
                  ] }
              ]
            }
            """);
        var m = Member(program);
        m.Paid("a", 100m, "2026-11-01T10:00:00+08:00", attributes: """{"category":"drink"}""");
        Assert.Equal((200L, 10L), (m.Summary().Growth.Lifetime, m.Balance));
        m.Paid("b", 100m, "2026-11-01T11:00:00+08:00", attributes: """{"category":"gift-card"}""");
        Assert.Equal((200L, 10L), (m.Summary().Growth.Lifetime, m.Balance));
        m.Paid("c", 100m, "2026-11-01T12:00:00+08:00", attributes: """{"category":"books"}""");
        Assert.Equal((300L, 110L), (m.Summary().Growth.Lifetime, m.Balance));
        var missing = m.Paid("d", 100m, "2026-11-01T13:00:00+08:00");
        Assert.Equal(("attributes.category", "is required for 'order.paid'"), (missing.Field, missing.Error));
    }

    [Fact]
    public void An_event_type_whose_condition_fails_is_accepted_and_earns_nothing()
    {
        var m = Member(TestPrograms.Load("weibo"), now: "2026-01-20T12:00:00+08:00");
        Assert.Equal(EventStatus.Accepted, m.Event("task", "2026-01-20T10:00:00+08:00").Status);
        var entry = m.Ledger[^1];
        Assert.Equal((0L, "condition"), (entry.Growth, entry.Note));
    }

    // ---- caps and limits ------------------------------------------------------------------------------------

    [Fact]
    public void Taobao_caps_growth_per_order_day_month_category_and_shop_and_the_ledger_says_what_each_cut()
    {
        var m = Member(s_taobao.Value);
        (long Growth, long Cut, string? By) Paid(string id, decimal amount, string category, string shop, string at)
        {
            Assert.Equal(EventStatus.Accepted, m.Paid(id, amount, at, attributes: $$"""{"category":"{{category}}","shop":"{{shop}}"}""").Status);
            var e = m.Ledger.Last(e => e.Kind == LedgerKinds.Earn);
            return (e.Growth, e.GrowthCut, e.Capped);
        }
        Assert.Equal((150L, 350L, "growth per event 200; growth per day of each shop 150"), Paid("o1", 500m, "food", "s1", "2026-10-05T10:00:00+08:00"));
        Assert.Equal((100L, 0L, (string?)null), Paid("o2", 100m, "food", "s2", "2026-10-05T11:00:00+08:00"));
        Assert.Equal((50L, 50L, "growth per day 300"), Paid("o3", 100m, "food", "s3", "2026-10-05T12:00:00+08:00"));
        Assert.Equal((100L, 200L, "growth per event 200; growth per month of each category 400"), Paid("o4", 300m, "food", "s1", "2026-10-06T10:00:00+08:00"));
        Assert.Equal((50L, 250L, "growth per event 200; growth per day of each shop 150"), Paid("o5", 300m, "drink", "s1", "2026-10-06T11:00:00+08:00"));
        Assert.Equal(450, m.Summary().Growth.Lifetime);
        Assert.Equal(500 + 100 + 100 + 300 + 300, m.Balance); // points are not capped in this program

        // A refund recomputes the order on what remains, never above what the caps left it.
        m.Refunded("o1", 300m, "2026-10-07T10:00:00+08:00");
        Assert.Equal((0L, -300L), (m.Ledger[^1].Growth, m.Ledger[^1].Points));
        m.Refunded("o1", 200m, "2026-10-07T11:00:00+08:00");
        Assert.Equal((-150L, -200L), (m.Ledger[^1].Growth, m.Ledger[^1].Points));
    }

    [Fact]
    public void A_monthly_cap_counts_every_event_of_the_month()
    {
        var m = Member(s_taobao.Value);
        // 淘气值 from interactions: 5 each, at most 4 a day and 60 a month.
        for (var day = 1; day <= 4; day++)
        {
            for (var i = 0; i < 4; i++) m.Event("interaction", $"2026-09-{day:00}T1{i}:00:00+08:00");
        }
        Assert.Equal(60, m.Summary().Growth.Lifetime);
        var last = m.Ledger[^1];
        Assert.Equal((0L, 5L, "growth per month 60"), (last.Growth, last.GrowthCut, last.Capped));
        m.Event("interaction", "2026-10-01T10:00:00+08:00");
        Assert.Equal(65, m.Summary().Growth.Lifetime);
    }

    [Fact]
    public void A_monthly_limit_stops_earning_once_the_month_has_its_count()
    {
        var m = Member(s_vipshop.Value);
        for (var day = 1; day <= 7; day++)
        {
            for (var i = 0; i < 3; i++) m.Event("review", $"2026-10-{day:00}T10:0{i}:00+08:00");
        }
        Assert.Equal((400L, 100L), (m.Summary().Growth.Lifetime, m.Balance)); // 20 reviews of 20 growth and 5 points
        Assert.Equal("limit:perMonth:20", m.Ledger[^1].Note);
        m.Event("review", "2026-11-01T10:00:00+08:00");
        Assert.Equal(420, m.Summary().Growth.Lifetime);
    }

    /// <summary>The largest rates and multipliers a definition may give, on the largest amounts an event may carry.</summary>
    private static readonly Lazy<MembershipProgram> s_extremes = new(() => Compile("""
        {
          "name": "Extremes", "currency": "CNY", "timeZone": "Asia/Shanghai",
          "qualifying": { "window": "P12M" }, "tierValidity": "P12M",
          "tiers": [ { "code": "basic", "name": "Basic", "threshold": 0, "pointMultiplier": 1000 } ],
          "multipliers": [
            { "name": "weekend", "factor": 1000, "when": { "weekday": ["saturday", "sunday"] } },
            { "name": "sunday", "factor": 1000, "when": { "weekday": "sunday" } } ],
          "eventTypes": [
            { "type": "order.paid", "kind": "purchase", "growth": { "perAmount": 1000000 }, "points": { "perAmount": 1000000 }, "pointMultipliers": ["tier", "weekend", "sunday"] },
            { "type": "gift", "kind": "purchase", "growth": { "fixed": 1 }, "points": { "perAmount": 1, "of": "giftValue" }, "pointMultipliers": ["tier", "weekend", "sunday"] },
            { "type": "badge", "kind": "activity", "growth": { "fixed": 1000000000000000 }, "points": { "fixed": 1000000000000000 }, "pointMultipliers": ["tier"] } ]
        }
        """));

    [Fact]
    public void The_largest_rates_on_a_weekday_earn_what_they_say()
    {
        var m = Member(s_extremes.Value);
        // 1,000 yuan x 1,000,000 points a yuan x the tier's 1,000: 10^12 points, within the bound.
        Assert.Equal(EventStatus.Accepted, m.Paid("o1", 1000m, "2026-10-07T10:00:00+08:00").Status);
        Assert.Equal((1_000_000_000_000L, 1_000_000_000L), (m.Balance, m.Summary().Growth.Lifetime));
    }

    [Fact]
    public void Events_within_the_bound_stop_where_the_members_sums_would_pass_theirs_and_the_refused_one_changes_nothing()
    {
        var m = Member(Compile("""
            {
              "name": "Jackpots", "currency": "CNY", "timeZone": "Asia/Shanghai",
              "qualifying": { "window": "P12M" }, "tierValidity": "P12M",
              "tiers": [ { "code": "basic", "name": "Basic", "threshold": 0 } ],
              "eventTypes": [
                { "type": "jackpot", "kind": "activity", "growth": { "fixed": 1000000000000000 }, "points": { "fixed": 1000000000000000 } },
                { "type": "bonus", "kind": "activity", "points": { "fixed": 1 } } ]
            }
            """));
        for (var i = 0; i < 1_000; i++)
        {
            Assert.Equal(EventStatus.Accepted, m.Apply(new ScoringEvent($"j{i}", "jackpot", At("2026-10-07T10:00:00+08:00"), null, null, null)).Status);
        }
        Assert.Equal((MemberRules.MaxMemberTotal, MemberRules.MaxMemberTotal), (m.Balance, m.Summary().Growth.Lifetime));

        var before = (m.Ledger.Count, m.Balance, m.Summary().Growth.Lifetime);
        var jackpot = m.Apply(new ScoringEvent("j-over", "jackpot", At("2026-10-07T10:00:00+08:00"), null, null, null));
        Assert.Equal((EventStatus.Rejected, "type", "member-total-too-large"), (jackpot.Status, jackpot.Field, jackpot.Reason));
        Assert.Equal("would take the member's lifetime growth (1000000000000000000) past 1000000000000000000, the most a member may hold", jackpot.Error);
        var bonus = m.Apply(new ScoringEvent("b-over", "bonus", At("2026-10-07T10:00:00+08:00"), null, null, null));
        Assert.Equal((EventStatus.Rejected, "member-total-too-large"), (bonus.Status, bonus.Reason));
        Assert.StartsWith("would take the member's points", bonus.Error);
        Assert.Equal(before, (m.Ledger.Count, m.Balance, m.Summary().Growth.Lifetime));
    }

    [Theory]
    // On a Sunday the multipliers make 10^15 points a fen; a large amount takes the product past long's range.
    [InlineData("order.paid", 10, null, "amount", "would earn 10000000000000000 points")]
    [InlineData("order.paid", 1000000000, null, "amount", "would earn more points")]
    [InlineData("gift", 1, """{"giftValue":1000000000}""", "attributes.giftValue", "would earn 1000000000000000000 points")]
    [InlineData("badge", null, null, "type", "would earn 1000000000000000000 points")]
    public void An_event_that_would_earn_more_than_any_event_may_is_refused_and_changes_nothing(string type, int? amount, string? attributes, string field, string message)
    {
        var m = Member(s_extremes.Value);
        var before = (m.Ledger.Count, m.Balance, m.Summary().Growth.Lifetime);
        var orderId = type == "badge" ? null : "o1";
        var outcome = m.Apply(new ScoringEvent("e1", type, At("2026-10-11T10:00:00+08:00"), orderId, amount, attributes));
        Assert.Equal((EventStatus.Rejected, field, "earning-too-large"), (outcome.Status, outcome.Field, outcome.Reason));
        Assert.StartsWith(message, outcome.Error);
        Assert.Contains("one event earns at most 1000000000000000", outcome.Error);
        Assert.Equal(before, (m.Ledger.Count, m.Balance, m.Summary().Growth.Lifetime));
    }

    // ---- benefit windows and periods ------------------------------------------------------------------------

    [Theory]
    [InlineData("2026-11-18T10:00:00+08:00", true, 1)]   // Wednesday
    [InlineData("2026-11-19T10:00:00+08:00", false, 1)]  // Thursday: outside the window
    public void Coffee_second_cup_half_price_is_for_wednesdays_once_a_day(string now, bool entitled, int remaining)
    {
        var m = Member(s_coffee.Value, now: "2026-11-01T10:00:00+08:00");
        m.Now = At(now);
        var check = m.Check("second-cup-half");
        Assert.Equal((entitled, remaining, 0.5m), (check.Entitled, check.Remaining, check.Value));
        Assert.Equal(entitled ? null : "window", check.Reason);
        if (!entitled) return;
        Assert.Equal(At("2026-11-19T00:00:00+08:00"), check.ResetsAt);
        Assert.Equal(WriteStatus.Applied, m.Use("second-cup-half").Status);
        Assert.Equal("quota", m.Use("second-cup-half").Reason);
        m.Now = At("2026-11-25T09:00:00+08:00"); // next Wednesday: a new day, a new use
        Assert.Equal(WriteStatus.Applied, m.Use("second-cup-half").Status);
    }

    [Fact]
    public void Coffee_gives_an_anniversary_drink_on_the_day_the_member_joined_each_year()
    {
        var m = Member(s_coffee.Value, now: "2025-03-10T15:00:00+08:00");
        m.Now = At("2026-03-09T23:59:59+08:00");
        Assert.Equal("window", m.Check("anniversary-drink").Reason);
        m.Now = At("2026-03-10T00:00:00+08:00");
        Assert.True(m.Check("anniversary-drink").Entitled);
        Assert.Equal(WriteStatus.Applied, m.Use("anniversary-drink").Status);
        Assert.Equal("quota", m.Use("anniversary-drink").Reason);
        m.Now = At("2026-03-11T00:00:00+08:00");
        Assert.Equal("window", m.Check("anniversary-drink").Reason);
    }

    [Fact]
    public void Sams_renewal_coupon_opens_30_days_before_plus_ends()
    {
        var m = Member(s_sams.Value, now: "2026-01-10T10:00:00+08:00");
        m.Plan("purchase", term: "P1Y", at: "2026-01-10T10:00:00+08:00", plan: "plus"); // until 2027-01-10T10:00+08
        m.Now = At("2026-12-11T09:59:59+08:00");
        Assert.Equal("window", m.Check("renewal-coupon").Reason);
        m.Now = At("2026-12-11T10:00:00+08:00");
        Assert.True(m.Check("renewal-coupon").Entitled);
        m.Now = At("2027-01-10T10:00:00+08:00");
        Assert.Equal("tier", m.Check("renewal-coupon").Reason); // the plan has ended: no grant applies
    }

    [Fact]
    public void A_grant_with_a_condition_applies_only_while_it_holds()
    {
        var m = Member(TestPrograms.Load("tencent-video"), now: "2026-01-01T10:00:00+08:00");
        m.Plan("purchase", term: "P1Y", plan: "vip"); // 15 a day from 01-02: v3 (1800) after 120 days
        m.Now = At("2026-06-01T12:00:00+08:00");
        Assert.Equal("v3", m.Tier().Tier.Code);
        Assert.Equal((true, 1), (m.Check("level-gift").Entitled, m.Check("level-gift").Remaining));
        m.Now = At("2027-01-01T10:00:00+08:00"); // the plan has ended: the level stays, the perk does not
        Assert.Equal("tier", m.Check("level-gift").Reason);
    }

    // ---- streaks ----------------------------------------------------------------------------------------------

    [Fact]
    public void Netease_sign_in_coins_rise_with_the_streak_and_start_again_after_seven_days_or_a_break()
    {
        var m = Member(s_netease.Value);
        long[] rewards = [0, 10, 10, 20, 20, 20, 50, 0, 10];
        for (var day = 0; day < rewards.Length; day++)
        {
            var before = m.Balance;
            m.Event("sign-in", $"2026-10-{day + 1:00}T08:00:00+08:00");
            Assert.True(10 + rewards[day] == m.Balance - before, $"day {day + 1}: {m.Balance - before}");
        }
        Assert.Equal(2, m.State.StreakOf("sign-in")!.Value.Length);
        m.Event("sign-in", "2026-10-09T20:00:00+08:00"); // the same day again: over the daily limit, no streak
        m.Event("sign-in", "2026-10-11T08:00:00+08:00"); // 10-10 missed: the streak starts again
        Assert.Equal(1, m.State.StreakOf("sign-in")!.Value.Length);
        var reward = m.Ledger.Where(e => e.Reason == "streak:sign-in").ToList();
        Assert.Equal([2, 3, 4, 5, 6, 7, 2], reward.Select(e => e.Streak));
        Assert.All(reward, e => Assert.Null(e.EventId));
    }

    [Fact]
    public void Jd_rewards_consecutive_months_with_a_purchase_and_a_missed_month_breaks_the_streak()
    {
        var m = Member(s_jd.Value);
        m.Paid("a", 100m, "2026-01-15T10:00:00+08:00");
        m.Paid("b", 100m, "2026-02-03T10:00:00+08:00");
        m.Paid("b2", 100m, "2026-02-20T10:00:00+08:00"); // the same month: no second step
        Assert.Equal(300, m.Summary().Growth.Lifetime);
        m.Paid("c", 100m, "2026-03-31T23:59:59+08:00");
        Assert.Equal(300 + 100 + 100, m.Summary().Growth.Lifetime); // the third month earns 100 growth more
        m.Paid("late", 100m, "2026-02-25T10:00:00+08:00"); // dated before the streak's last month: no change
        Assert.Equal(3, m.State.StreakOf("order.paid")!.Value.Length);
        m.Paid("d", 100m, "2026-05-02T10:00:00+08:00"); // April missed
        Assert.Equal(1, m.State.StreakOf("order.paid")!.Value.Length);
        // A refund of the order that earned the reward does not take the reward back.
        m.Refunded("c", 100m, "2026-05-03T10:00:00+08:00");
        Assert.Equal(600 + 100 - 100, m.Summary().Growth.Lifetime);
    }

    // ---- plans with prices ------------------------------------------------------------------------------------

    [Fact]
    public void Taobao_88vip_costs_88_for_a_super_member_and_888_for_others()
    {
        var guest = new MemberHarness(s_taobao.Value);
        var offer = Assert.Single(guest.Plans());
        Assert.Equal(("88vip", 888m, 888m), (offer.Code, offer.Terms.Single().Price, offer.Terms.Single().ListPrice));

        var m = Member(s_taobao.Value, now: "2026-11-23T12:00:00+08:00");
        string[] categories = ["c1", "c2", "c3", "c4", "c5", "c6"];
        for (var i = 0; i < 6; i++) m.Paid($"o{i}", 150m, $"2026-11-{12 + i / 2}T1{i % 2}:00:00+08:00", attributes: $$"""{"category":"{{categories[i]}}","shop":"s{{i % 2}}"}""");
        Assert.Equal(900, m.Summary().Growth.Qualifying);
        Assert.Equal(888m, m.Plans().Single().Terms.Single().Price);
        m.Paid("o6", 100m, "2026-11-20T10:00:00+08:00", attributes: """{"category":"c1","shop":"s1"}""");
        Assert.Equal("super", m.Tier().Tier.Code);
        Assert.Equal(88m, m.Plans().Single().Terms.Single().Price);
    }

    [Fact]
    public void Sams_plus_renews_at_580_in_its_last_30_days()
    {
        var m = Member(s_sams.Value, now: "2026-01-10T10:00:00+08:00");
        m.Plan("purchase", term: "P1Y", at: "2026-01-10T10:00:00+08:00", plan: "plus");
        Assert.Equal(680m, Price(m, "plus"));
        m.Now = At("2026-12-11T10:00:00+08:00");
        Assert.Equal(580m, Price(m, "plus"));
        Assert.Equal(260m, Price(m, "club"));

        static decimal? Price(MemberHarness m, string plan) => m.Plans().Single(p => p.Code == plan).Terms.Single().Price;
    }

    // ---- calendar re-grade ------------------------------------------------------------------------------------

    [Fact]
    public void Taobao_regrades_tiers_monthly_on_the_8th_in_shanghai_time()
    {
        var m = Member(s_taobao.Value, now: "2026-01-05T10:00:00+08:00");
        m.Now = At("2026-01-25T12:00:00+08:00");
        string[] days = ["10", "10", "11", "11", "12", "12"];
        string[] categories = ["c1", "c2", "c3", "c1", "c2", "c3"];
        for (var i = 0; i < 6; i++) m.Paid($"o{i}", 150m, $"2026-01-{days[i]}T1{i % 2}:00:00+08:00", attributes: $$"""{"category":"{{categories[i]}}","shop":"s{{i % 2}}"}""");
        m.Paid("o6", 100m, "2026-01-20T10:00:00+08:00", attributes: """{"category":"c1","shop":"s1"}""");
        var tier = m.Tier();
        Assert.Equal(("super", At("2026-01-20T10:00:00+08:00"), At("2026-02-08T00:00:00+08:00")), (tier.Tier.Code, tier.Since, tier.ValidUntil));

        m.Now = At("2026-02-08T00:00:00+08:00"); // re-graded: the year's growth still reaches 1,000
        tier = m.Tier();
        Assert.Equal(("super", At("2026-02-08T00:00:00+08:00"), At("2026-03-08T00:00:00+08:00")), (tier.Tier.Code, tier.Since, tier.ValidUntil));

        m.Now = At("2027-01-20T10:00:00+08:00"); // the last order left the 12-month window, but the tier holds to the 8th
        Assert.Equal(("super", At("2027-01-08T00:00:00+08:00")), (m.Tier().Tier.Code, m.Tier().Since));
        m.Now = At("2027-02-08T00:00:00+08:00");
        Assert.Equal(("member", (DateTimeOffset?)null), (m.Tier().Tier.Code, m.Tier().ValidUntil));
    }

    // ---- bugs -------------------------------------------------------------------------------------------------

    [Fact]
    public void A_refund_dated_before_its_order_is_rejected_naming_occurred_at()
    {
        var m = Member(TestPrograms.Default);
        m.Paid("o1", 100m, "2026-11-10T10:00:00+08:00");
        var outcome = m.Refunded("o1", 10m, "2026-11-10T09:59:59+08:00");
        Assert.Equal((EventStatus.Rejected, "occurredAt", "refund-before-order"), (outcome.Status, outcome.Field, outcome.Reason));
        Assert.Equal(EventStatus.Accepted, m.Refunded("o1", 10m, "2026-11-10T10:00:00+08:00").Status);
    }

    [Theory]
    [InlineData("default", 60)]
    [InlineData("coffee-club", 30)]
    public void The_points_expiring_notice_goes_out_the_programs_expiring_soon_days_ahead(string id, int days)
    {
        var program = TestPrograms.Load(id);
        var m = Member(program);
        m.Paid("o1", 100m, "2026-11-01T10:00:00+08:00");
        var bucket = Assert.Single(m.State.Buckets);
        var notice = Assert.Single(MemberNotices.All(program, "m", m.State, m.Now));
        Assert.Equal(bucket.ExpiresAt!.Value.AddDays(-days), notice.DueAt);
        Assert.Equal(notice.DueAt, MemberNotices.Next(program, m.State, m.Now, [], []));
    }

    [Fact]
    public void The_plan_expiring_notice_goes_out_the_plans_notice_days_ahead()
    {
        var program = s_sams.Value;
        var m = Member(program, now: "2026-01-10T10:00:00+08:00");
        m.Plan("purchase", term: "P1Y", at: "2026-01-10T10:00:00+08:00", plan: "club");
        var notice = Assert.Single(MemberNotices.All(program, "m", m.State, m.Now), n => n.Change.Type == MemberChangeTypes.PlanExpiring);
        Assert.Equal(At("2026-12-11T10:00:00+08:00"), notice.DueAt);
    }
}
