using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Orleans.Membership.Domain;
using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Tests.Programs;

public sealed class ProgramCompilerTests
{
    private const string Remove = "<remove>";

    private static string Shipped(string name)
        => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "programs", $"{name}.json"));

    private static MembershipProgram CompileOk(string id, string json, int version = 1)
    {
        var result = ProgramCompiler.Compile(id, version, json);
        Assert.True(result.Succeeded, "expected no errors, got:\n" + Describe(result.Errors));
        Assert.Empty(result.Errors);
        return result.Program!;
    }

    private static IReadOnlyList<ProgramError> CompileErrors(string json, string id = "test")
    {
        var result = ProgramCompiler.Compile(id, 1, json);
        Assert.False(result.Succeeded, "expected errors, but the definition compiled");
        Assert.Null(result.Program);
        Assert.NotEmpty(result.Errors);
        return result.Errors;
    }

    private static void AssertError(IReadOnlyList<ProgramError> errors, string path, string fragment)
        => Assert.True(
            errors.Any(e => e.Path == path && e.Message.Contains(fragment, StringComparison.Ordinal)),
            $"expected an error at '{path}' containing \"{fragment}\", got:\n{Describe(errors)}");

    private static string Describe(IEnumerable<ProgramError> errors)
        => string.Join("\n", errors.Select(e => $"  {e.Path}: {e.Message}"));

    /// <summary>Sets (or removes) the value at a path such as <c>tiers[2].threshold</c> of a definition.</summary>
    private static string Mutate(string json, string path, string value)
    {
        var root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions
        {
            CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
        })!;
        var tokens = Regex.Matches(path, @"[^.\[\]]+|\[\d+\]").Select(m => m.Value).ToList();
        var parent = root;
        foreach (var token in tokens.SkipLast(1))
        {
            parent = (token[0] == '[' ? parent[int.Parse(token[1..^1])] : parent[token])
                ?? throw new ArgumentException($"nothing at '{token}' of '{path}'");
        }
        var last = tokens[^1];
        var node = value == Remove ? null : JsonNode.Parse(value);
        if (last[0] == '[')
        {
            var index = int.Parse(last[1..^1]);
            if (value == Remove) parent.AsArray().RemoveAt(index);
            else parent[index] = node;
        }
        else if (value == Remove)
        {
            Assert.True(parent.AsObject().Remove(last), $"nothing to remove at '{path}'");
        }
        else
        {
            parent[last] = node;
        }
        return root.ToJsonString();
    }

    // ---------------------------------------------------------------- the shipped programs

    [Theory]
    [InlineData("default")]
    [InlineData("coffee-club")]
    [InlineData("vipshop")]
    [InlineData("taobao")]
    [InlineData("jd")]
    [InlineData("weibo")]
    [InlineData("tencent-video")]
    [InlineData("netease")]
    [InlineData("coffee")]
    [InlineData("sams")]
    public void Every_shipped_program_compiles(string id) => CompileOk(id, Shipped(id));

    [Fact]
    public void Default_program_compiles_to_the_documented_rules()
    {
        var program = CompileOk("default", Shipped("default"), version: 3);

        Assert.Equal("default", program.Id);
        Assert.Equal(3, program.Version);
        Assert.Equal("默认会员计划", program.Name);
        Assert.Contains("\"name\":\"默认会员计划\"", program.DefinitionJson);
        Assert.Equal("CNY", program.Currency);
        Assert.Equal(TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai"), program.TimeZone);
        Assert.Equal(new QualifyingWindow(12), program.Qualifying);
        Assert.Equal(12, program.TierValidityMonths);

        Assert.Equal(
            [
                new Tier("member", "普通会员", 0, 1.0m, 0),
                new Tier("silver", "白银会员", 1000, 1.0m, 1),
                new Tier("gold", "黄金会员", 5000, 1.2m, 2),
                new Tier("platinum", "铂金会员", 20000, 1.5m, 3),
                new Tier("diamond", "钻石会员", 50000, 2.0m, 4),
            ],
            program.Tiers);
        Assert.Equal("member", program.BaseTier.Code);

        Assert.Equal(2, program.Multipliers.Count);
        Assert.Equal(new Multiplier("birthday", 2m, new Condition { BirthdayMonth = true }), program.Multipliers["birthday"]);
        Assert.Equal(new Multiplier("plus", 2m, new Condition { PlanActive = "plus" }), program.Multipliers["plus"]);

        Assert.Equal(
            new[] { "order.paid", "order.refunded", "sign-in", "review", "share", "profile.completed" }.Order(StringComparer.Ordinal),
            program.EventTypes.Keys.Order(StringComparer.Ordinal));
        var paid = program.EventTypes["order.paid"];
        Assert.Equal(EventKind.Purchase, paid.Kind);
        Assert.Equal(new Formula(null, 5m), paid.Growth);
        Assert.Equal(new Formula(null, 1m), paid.Points);
        Assert.Equal(["tier", "birthday", "plus"], paid.PointMultipliers);
        Assert.Null(paid.Limit);
        Assert.Empty(paid.Counters);

        var refunded = program.EventTypes["order.refunded"];
        Assert.Equal(EventKind.Refund, refunded.Kind);
        Assert.Equal("order.paid", refunded.Refunds);
        Assert.Null(refunded.Growth);
        Assert.Null(refunded.Points);

        AssertActivity(program, "sign-in", growth: 10, points: 5, new EarnLimit(1, null));
        AssertActivity(program, "review", growth: 20, points: 10, new EarnLimit(5, null));
        AssertActivity(program, "share", growth: 5, points: null, new EarnLimit(10, null));
        AssertActivity(program, "profile.completed", growth: 100, points: 50, new EarnLimit(null, 1));

        Assert.Equal(new PointExpiry(PointExpiryPolicy.EndOfYear, 1, 0), program.PointExpiry);
        Assert.Equal(60, program.ExpiringSoonDays);

        Assert.Equal(
            ["free-shipping", "member-price", "priority-service", "birthday-gift", "early-access", "monthly-coupon"],
            program.Benefits.Select(b => b.Code));
        Assert.Equal(program.Benefits.Count, program.BenefitsByCode.Count);

        var shipping = program.BenefitsByCode["free-shipping"];
        Assert.Equal(QuotaPeriod.Month, shipping.Period);
        Assert.Equal(Condition.Always, shipping.Window);
        Assert.Equal(
            [("silver", 2), ("gold", 5), ("platinum", 10), ("diamond", (int?)null)],
            shipping.Grants.Where(g => g.Tiers.Count > 0).Select(g => (g.Tiers.Single(), g.Quota)));
        Assert.Contains(shipping.Grants, g => g.Plans.SequenceEqual(["plus"]) && g.IsUnlimited);

        var price = program.BenefitsByCode["member-price"];
        Assert.Equal(ValueRule.Lowest, price.ValueRule);
        Assert.Equal(
            [("gold", 0.98m), ("platinum", 0.95m), ("diamond", 0.90m), ("plus", 0.95m)],
            price.Grants.Select(g => (g.Tiers.Concat(g.Plans).Single(), g.Value!.Value)));
        Assert.All(price.Grants, g => Assert.True(g.IsUnlimited));

        Assert.Equal(["platinum", "diamond"], program.BenefitsByCode["priority-service"].Grants.Single().Tiers);

        var birthday = program.BenefitsByCode["birthday-gift"];
        Assert.Equal(QuotaPeriod.Year, birthday.Period);
        Assert.Equal(new Condition { BirthdayMonth = true }, birthday.Window);
        Assert.Equal(["silver", "gold", "platinum", "diamond"], birthday.Grants.Single().Tiers);
        Assert.Equal(1, birthday.Grants.Single().Quota);

        var early = program.BenefitsByCode["early-access"];
        Assert.Equal(["gold", "platinum", "diamond"], early.Grants[0].Tiers);
        Assert.Equal(["plus"], early.Grants[1].Plans);
        Assert.All(early.Grants, g => Assert.True(g.IsUnlimited));

        var coupon = program.BenefitsByCode["monthly-coupon"];
        Assert.Equal(QuotaPeriod.Month, coupon.Period);
        Assert.Equal(new Condition { FromDayOfMonth = 2 }, coupon.Window);
        Assert.Equal(["gold", "platinum", "diamond"], coupon.Grants[0].Tiers);
        Assert.Equal(["plus"], coupon.Grants[1].Plans);
        Assert.All(coupon.Grants, g => Assert.Equal(1, g.Quota));

        var plus = Assert.Single(program.Plans.Values);
        Assert.Equal("plus", plus.Code);
        Assert.Equal("PLUS会员", plus.Name);
        Assert.Equal(["P1M", "P1Y"], plus.Terms);
        Assert.Equal(7, plus.TrialDays);
    }

    private static void AssertActivity(MembershipProgram program, string type, long growth, long? points, EarnLimit limit)
    {
        var e = program.EventTypes[type];
        Assert.Equal(EventKind.Activity, e.Kind);
        Assert.Equal(new Formula(growth, null), e.Growth);
        Assert.Equal(points is null ? null : new Formula(points, null), e.Points);
        Assert.Equal(limit, e.Limit);
        Assert.Empty(e.PointMultipliers);
    }

    [Fact]
    public void Coffee_club_compiles_to_the_documented_rules()
    {
        var program = CompileOk("coffee-club", Shipped("coffee-club"));

        Assert.Equal("Coffee Club", program.Name);
        Assert.True(program.Qualifying.IsLifetime);
        Assert.Null(program.TierValidityMonths);
        Assert.Equal(["green", "gold", "reserve"], program.Tiers.Select(t => t.Code));
        Assert.Equal([0L, 500L, 2000L], program.Tiers.Select(t => t.Threshold));
        Assert.Equal([1.0m, 1.2m, 1.5m], program.Tiers.Select(t => t.PointMultiplier));

        var memberDay = Assert.Single(program.Multipliers.Values);
        Assert.Equal(new Multiplier("member-day", 2m, new Condition { Weekdays = [DayOfWeek.Wednesday] }), memberDay);

        var paid = program.EventTypes["order.paid"];
        Assert.Equal(new Formula(null, 1m), paid.Growth);
        Assert.Equal(new Formula(null, 1m), paid.Points);
        Assert.Equal(["tier", "member-day"], paid.PointMultipliers);
        Assert.Equal(1, Assert.Contains("stamps", paid.Counters));
        Assert.Equal("order.paid", program.EventTypes["order.refunded"].Refunds);

        Assert.Equal(new PointExpiry(PointExpiryPolicy.DaysAfterEarning, 0, 180), program.PointExpiry);
        Assert.Equal(30, program.ExpiringSoonDays);

        var drink = program.BenefitsByCode["free-drink"];
        Assert.Equal(QuotaPeriod.Lifetime, drink.Period);
        var grant = Assert.Single(drink.Grants);
        Assert.Equal(["green", "gold", "reserve"], grant.Tiers);
        Assert.Equal(new CounterQuota("stamps", 10), grant.EarnedBy);
        Assert.Null(grant.Quota);
        Assert.False(grant.IsUnlimited);

        var upsize = program.BenefitsByCode["free-upsize"];
        Assert.Equal(QuotaPeriod.Month, upsize.Period);
        Assert.Equal([("gold", (int?)1), ("reserve", 2)], upsize.Grants.Select(g => (g.Tiers.Single(), g.Quota)));

        Assert.Empty(program.Plans);
    }

    [Theory]
    [InlineData("default")]
    [InlineData("coffee-club")]
    public void Definition_json_leaves_out_id_and_version_and_compiles_to_itself(string file)
    {
        var withIdAndVersion = Mutate(Mutate(Shipped(file), "id", $"\"{file}\""), "version", "7");
        var program = CompileOk(file, withIdAndVersion);

        using var doc = JsonDocument.Parse(program.DefinitionJson);
        Assert.False(doc.RootElement.TryGetProperty("id", out _));
        Assert.False(doc.RootElement.TryGetProperty("version", out _));
        Assert.DoesNotContain("\n", program.DefinitionJson);
        Assert.Equal(CompileOk(file, program.DefinitionJson).DefinitionJson, program.DefinitionJson);
    }

    [Fact]
    public void An_optional_field_set_to_null_is_the_same_definition_as_leaving_it_out()
    {
        var shipped = CompileOk("default", Shipped("default")).DefinitionJson;
        var withNulls = Mutate(Mutate(Shipped("default"), "regrade", "null"), "benefits[0].grants[3].quota", "null");

        Assert.Equal(shipped, CompileOk("default", withNulls).DefinitionJson);
    }

    // ---------------------------------------------------------------- accepted forms and defaults

    private const string Minimal = """
        {
          // comments and trailing commas are accepted
          "name": "Minimal",
          "currency": "EUR",
          "timeZone": "Europe/Berlin",
          "qualifying": { "window": "P6M" },
          "tiers": [ { "code": "basic", "name": "Basic", "threshold": 0 }, ],
          "eventTypes": [ { "type": "visit", "kind": "activity" } ],
        }
        """;

    [Fact]
    public void Optional_parts_take_their_defaults()
    {
        var program = CompileOk("minimal", Minimal);

        Assert.Equal(new QualifyingWindow(6), program.Qualifying);
        Assert.Null(program.TierValidityMonths);
        Assert.Equal(1m, program.BaseTier.PointMultiplier);
        Assert.Equal(new PointExpiry(PointExpiryPolicy.EndOfYear, 1, 0), program.PointExpiry);
        Assert.Equal(60, program.ExpiringSoonDays);
        Assert.Empty(program.Multipliers);
        Assert.Empty(program.Benefits);
        Assert.Empty(program.BenefitsByCode);
        Assert.Empty(program.Plans);
        var visit = program.EventTypes["visit"];
        Assert.Null(visit.Growth);
        Assert.Null(visit.Points);
        Assert.Empty(visit.PointMultipliers);
        Assert.Empty(visit.Counters);
        Assert.Null(visit.Limit);
        Assert.Equal(
            """{"name":"Minimal","currency":"EUR","timeZone":"Europe/Berlin","qualifying":{"window":"P6M"},"tiers":[{"code":"basic","name":"Basic","threshold":0}],"eventTypes":[{"type":"visit","kind":"activity"}]}""",
            program.DefinitionJson);
    }

    [Fact]
    public void Benefit_defaults_are_month_lowest_and_always()
    {
        var json = Mutate(Minimal, "benefits", """[ { "code": "lounge", "name": "Lounge", "grants": [ { "tiers": ["basic"] } ] } ]""");
        var benefit = Assert.Single(CompileOk("minimal", json).Benefits);

        Assert.Equal(new Benefit("lounge", "Lounge", QuotaPeriod.Month, ValueRule.Lowest, Condition.Always, benefit.Grants), benefit);
        var grant = Assert.Single(benefit.Grants);
        Assert.True(grant.IsUnlimited);
        Assert.Empty(grant.Plans);
        Assert.Null(grant.Value);
    }

    [Theory]
    [InlineData("""{ "expiry": { "policy": "never" } }""", PointExpiryPolicy.Never, 0, 0, 60)]
    [InlineData("""{ "expiry": { "policy": "end-of-year" } }""", PointExpiryPolicy.EndOfYear, 1, 0, 60)]
    [InlineData("""{ "expiry": { "policy": "end-of-year", "yearsAfter": 0 }, "expiringSoonDays": 0 }""", PointExpiryPolicy.EndOfYear, 0, 0, 0)]
    [InlineData("""{ "expiry": { "policy": "days-after-earning", "days": 365 } }""", PointExpiryPolicy.DaysAfterEarning, 0, 365, 60)]
    [InlineData("""{ "expiringSoonDays": 14 }""", PointExpiryPolicy.EndOfYear, 1, 0, 14)]
    public void Point_expiry_forms(string value, PointExpiryPolicy policy, int yearsAfter, int days, int soon)
    {
        var program = CompileOk("minimal", Mutate(Minimal, "points", value));

        Assert.Equal(new PointExpiry(policy, yearsAfter, days), program.PointExpiry);
        Assert.Equal(soon, program.ExpiringSoonDays);
    }

    [Theory]
    [InlineData("Wednesday", DayOfWeek.Wednesday)]
    [InlineData("SUNDAY", DayOfWeek.Sunday)]
    [InlineData("monday", DayOfWeek.Monday)]
    public void Weekdays_are_case_insensitive(string weekday, DayOfWeek expected)
    {
        var json = Mutate(Shipped("coffee-club"), "multipliers[0].when.weekday", $"\"{weekday}\"");
        Assert.Equal(expected, Assert.Single(CompileOk("coffee-club", json).Multipliers["member-day"].When.Weekdays!));
    }

    [Fact]
    public void A_matching_id_is_accepted_and_version_is_ignored()
    {
        var json = Mutate(Mutate(Minimal, "id", "\"minimal\""), "version", "\"anything\"");
        var program = CompileOk("minimal", json, version: 9);

        Assert.Equal("minimal", program.Id);
        Assert.Equal(9, program.Version);
    }

    [Fact]
    public void Null_tier_validity_and_lifetime_window_mean_no_expiry()
    {
        var json = Mutate(Mutate(Minimal, "tierValidity", "null"), "qualifying.window", "\"lifetime\"");
        var program = CompileOk("minimal", json);

        Assert.Null(program.TierValidityMonths);
        Assert.True(program.Qualifying.IsLifetime);
    }

    [Fact]
    public void Empty_rules_and_caps_are_the_same_as_none()
    {
        // [] is their documented default: an operator who empties the list removes the last cap or rule.
        var program = CompileOk("minimal", Mutate(Mutate(Minimal, "eventTypes[0].rules", "[]"), "eventTypes[0].caps", "[]"));
        Assert.Empty(program.EventTypes["visit"].Caps);
    }

    // ---------------------------------------------------------------- rejected definitions

    [Theory]
    // root
    [InlineData("default", "name", Remove, "name", "is required")]
    [InlineData("default", "name", "\"  \"", "name", "must not be empty")]
    [InlineData("default", "name", "5", "name", "must be a string")]
    [InlineData("default", "currency", "\"cny\"", "currency", "must be 3 uppercase letters")]
    [InlineData("default", "currency", "\"RMB1\"", "currency", "must be 3 uppercase letters")]
    [InlineData("default", "timeZone", "\"Mars/Olympus\"", "timeZone", "unknown time zone 'Mars/Olympus'")]
    [InlineData("default", "timeZone", "\"China Standard Time\"", "timeZone", "'China Standard Time' is not an IANA time zone id: write 'Asia/Shanghai'")]
    [InlineData("default", "timeZone", Remove, "timeZone", "is required")]
    [InlineData("default", "id", "\"other\"", "id", "'other' does not match the program id 'test'")]
    [InlineData("default", "id", "1", "id", "must be a string")]
    [InlineData("default", "tier", "\"gold\"", "tier", "unknown property")]
    [InlineData("default", "qualifying", Remove, "qualifying", "is required")]
    [InlineData("default", "qualifying", "\"P12M\"", "qualifying", "must be an object")]
    [InlineData("default", "qualifying.window", "\"12 months\"", "qualifying.window", "must be \"P<n>M\" (n months, 1 to 120) or \"lifetime\"")]
    [InlineData("default", "qualifying.window", "\"P121M\"", "qualifying.window", "must be \"P<n>M\"")]
    [InlineData("default", "qualifying.window", "\"P0M\"", "qualifying.window", "must be \"P<n>M\"")]
    [InlineData("default", "qualifying.windw", "\"P12M\"", "qualifying.windw", "unknown property")]
    [InlineData("default", "tierValidity", "\"P1Y\"", "tierValidity", "or null for tiers that never expire")]
    [InlineData("default", "tierValidity", "\"lifetime\"", "tierValidity", "must be \"P<n>M\"")]
    [InlineData("default", "tierValidity", "12", "tierValidity", "must be a string")]
    // tiers
    [InlineData("default", "tiers", Remove, "tiers", "is required")]
    [InlineData("default", "tiers", "[]", "tiers", "must not be empty")]
    [InlineData("default", "tiers", "{}", "tiers", "must be an array")]
    [InlineData("default", "tiers[0].threshold", "10", "tiers[0].threshold", "must be 0")]
    [InlineData("default", "tiers[2].threshold", "1000", "tiers[2].threshold", "must be greater than tiers[1].threshold (1000)")]
    [InlineData("default", "tiers[4].threshold", "20000", "tiers[4].threshold", "must be greater than tiers[3].threshold (20000)")]
    [InlineData("default", "tiers[1].threshold", "1.5", "tiers[1].threshold", "must be an integer")]
    [InlineData("default", "tiers[1].threshold", "\"1000\"", "tiers[1].threshold", "must be an integer")]
    [InlineData("default", "tiers[1].threshold", "-1", "tiers[1].threshold", "must be at least 0")]
    [InlineData("default", "tiers[1].threshold", Remove, "tiers[1].threshold", "is required")]
    [InlineData("default", "tiers[4].threshold", "1000000000000001", "tiers[4].threshold", "must be at most 1000000000000000")]
    [InlineData("default", "tiers[4].threshold", "1e40", "tiers[4].threshold", "must be at most 1000000000000000")]
    [InlineData("default", "tiers[1].code", "\"Silver\"", "tiers[1].code", "'Silver' must be 1 to 32 lowercase letters")]
    [InlineData("default", "tiers[1].code", "\"member\"", "tiers[1].code", "'member' is already used by tiers[0]")]
    [InlineData("default", "tiers[1].name", Remove, "tiers[1].name", "is required")]
    [InlineData("default", "tiers[2].pointMultiplier", "0", "tiers[2].pointMultiplier", "must be greater than 0")]
    [InlineData("default", "tiers[2].pointMultiplier", "\"1.2\"", "tiers[2].pointMultiplier", "must be a number")]
    [InlineData("default", "tiers[2].pointMultiplier", "1000.5", "tiers[2].pointMultiplier", "must be at most 1000")]
    [InlineData("default", "tiers[2].treshold", "5000", "tiers[2].treshold", "unknown property; expected one of: code, name, threshold, pointMultiplier")]
    [InlineData("default", "tiers[3]", "\"platinum\"", "tiers[3]", "must be an object")]
    // multipliers
    [InlineData("default", "multipliers", "{}", "multipliers", "must be an array")]
    [InlineData("default", "multipliers[0].name", "\"tier\"", "multipliers[0].name", "built-in")]
    [InlineData("default", "multipliers[1].name", "\"birthday\"", "multipliers[1].name", "'birthday' is already used by multipliers[0]")]
    [InlineData("default", "multipliers[0].factor", "-2", "multipliers[0].factor", "must be greater than 0")]
    [InlineData("default", "multipliers[0].factor", "1e300", "multipliers[0].factor", "must be at most 1000")]
    [InlineData("default", "multipliers[0].factor", Remove, "multipliers[0].factor", "is required")]
    [InlineData("default", "multipliers[0].when", "{}", "multipliers[0].when", "must have at least one condition of birthdayMonth, planActive")]
    [InlineData("default", "multipliers[0].when", """{ "birthdayMonth": true, "weekday": "funday" }""", "multipliers[0].when.weekday", "'funday' must be one of: monday")]
    [InlineData("default", "multipliers[0].when", """{ "birthdayMonth": false }""", "multipliers[0].when.birthdayMonth", "must be true")]
    [InlineData("default", "multipliers[0].when", """{ "weekday": "funday" }""", "multipliers[0].when.weekday", "'funday' must be one of: monday, tuesday")]
    [InlineData("default", "multipliers[0].when", """{ "tiers": ["gold", "bronze"] }""", "multipliers[0].when.tiers[1]", "unknown tier 'bronze'; defined tiers: member, silver, gold, platinum, diamond")]
    [InlineData("default", "multipliers[0].when", """{ "tiers": [] }""", "multipliers[0].when.tiers", "must not be empty")]
    [InlineData("default", "multipliers[0].when", """{ "month": 5 }""", "multipliers[0].when.month", "unknown property")]
    [InlineData("default", "multipliers[1].when.planActive", "\"gold\"", "multipliers[1].when.planActive", "unknown plan 'gold'; defined plans: plus")]
    [InlineData("default", "plans", Remove, "multipliers[1].when.planActive", "unknown plan 'plus'; the program defines no plans")]
    // event types
    [InlineData("default", "eventTypes", "{}", "eventTypes", "must be an array")]
    [InlineData("default", "eventTypes[0].type", "\"Order.Paid\"", "eventTypes[0].type", "'Order.Paid' must be 1 to 64 lowercase letters")]
    [InlineData("default", "eventTypes[2].type", "\"order.paid\"", "eventTypes[2].type", "'order.paid' is already used by eventTypes[0]")]
    [InlineData("default", "eventTypes[0].kind", "\"sale\"", "eventTypes[0].kind", "'sale' must be one of: purchase, refund, activity")]
    [InlineData("default", "eventTypes[0].kind", Remove, "eventTypes[0].kind", "is required")]
    [InlineData("default", "eventTypes[0].points", """{ "fixed": 1, "perAmount": 1 }""", "eventTypes[0].points", "must have exactly one of fixed")]
    [InlineData("default", "eventTypes[0].points", "{}", "eventTypes[0].points", "must have exactly one of fixed")]
    [InlineData("default", "eventTypes[0].points", "1", "eventTypes[0].points", "must be an object")]
    [InlineData("default", "eventTypes[0].points.perAmount", "0", "eventTypes[0].points.perAmount", "must be greater than 0")]
    [InlineData("default", "eventTypes[0].points.perAmount", "1000001", "eventTypes[0].points.perAmount", "must be at most 1000000")]
    [InlineData("default", "eventTypes[2].points.fixed", "5000000000000000000", "eventTypes[2].points.fixed", "must be at most 1000000000000000")]
    [InlineData("default", "eventTypes[0].growth.perAmunt", "5", "eventTypes[0].growth.perAmunt", "unknown property")]
    [InlineData("default", "eventTypes[2].points", """{ "perAmount": 1 }""", "eventTypes[2].points.perAmount", "not allowed for an activity")]
    [InlineData("default", "eventTypes[2].growth.fixed", "-1", "eventTypes[2].growth.fixed", "must be at least 0")]
    [InlineData("default", "eventTypes[2].growth.fixed", "2.5", "eventTypes[2].growth.fixed", "must be an integer")]
    [InlineData("default", "eventTypes[1].refunds", Remove, "eventTypes[1].refunds", "is required")]
    [InlineData("default", "eventTypes[1].refunds", "\"sign-in\"", "eventTypes[1].refunds", "'sign-in' is not a purchase")]
    [InlineData("default", "eventTypes[1].refunds", "\"order.pad\"", "eventTypes[1].refunds", "unknown event type 'order.pad'")]
    [InlineData("default", "eventTypes[1].points", """{ "fixed": 1 }""", "eventTypes[1].points", "not allowed on a refund")]
    [InlineData("default", "eventTypes[1].growth", """{ "perAmount": 1 }""", "eventTypes[1].growth", "not allowed on a refund")]
    [InlineData("default", "eventTypes[1].limit", """{ "perDay": 1 }""", "eventTypes[1].limit", "not allowed on a refund")]
    [InlineData("default", "eventTypes[1].counters", """{ "stamps": 1 }""", "eventTypes[1].counters", "not allowed on a refund")]
    [InlineData("default", "eventTypes[1].pointMultipliers", """["tier"]""", "eventTypes[1].pointMultipliers", "not allowed on a refund")]
    [InlineData("default", "eventTypes[2].refunds", "\"order.paid\"", "eventTypes[2].refunds", "not allowed unless kind is refund")]
    [InlineData("default", "eventTypes[4].pointMultipliers", """["tier"]""", "eventTypes[4].pointMultipliers", "only allowed when points is set")]
    [InlineData("default", "eventTypes[0].pointMultipliers[1]", "\"birthdy\"", "eventTypes[0].pointMultipliers[1]", "unknown multiplier 'birthdy'; defined multipliers: tier, birthday, plus")]
    [InlineData("default", "eventTypes[0].pointMultipliers[2]", "\"tier\"", "eventTypes[0].pointMultipliers[2]", "'tier' is listed twice")]
    [InlineData("default", "eventTypes[0].pointMultipliers", "\"tier\"", "eventTypes[0].pointMultipliers", "must be an array")]
    [InlineData("default", "eventTypes[2].limit", "{}", "eventTypes[2].limit", "must have at least one of perDay, perMonth, perMember")]
    [InlineData("default", "eventTypes[2].limit.perDay", "0", "eventTypes[2].limit.perDay", "must be at least 1")]
    [InlineData("default", "eventTypes[5].limit.perMember", "true", "eventTypes[5].limit.perMember", "must be an integer")]
    [InlineData("default", "eventTypes[0].counters", """{ "Stamps!": 1 }""", "eventTypes[0].counters['Stamps!']", "counter name 'Stamps!' must be 1 to 32 lowercase letters")]
    [InlineData("default", "eventTypes[0].counters", """{ "stamps": 0 }""", "eventTypes[0].counters.stamps", "must be at least 1")]
    [InlineData("default", "eventTypes[0].counters", "[]", "eventTypes[0].counters", "must be an object")]
    // points
    [InlineData("default", "points", "60", "points", "must be an object")]
    [InlineData("default", "points.expiry.policy", "\"monthly\"", "points.expiry.policy", "'monthly' must be one of: end-of-year, days-after-earning, never")]
    [InlineData("default", "points.expiry.policy", Remove, "points.expiry.policy", "is required")]
    [InlineData("default", "points.expiry", """{ "policy": "days-after-earning" }""", "points.expiry.days", "is required")]
    [InlineData("default", "points.expiry", """{ "policy": "days-after-earning", "days": 30, "yearsAfter": 1 }""", "points.expiry.yearsAfter", "not allowed unless policy is end-of-year")]
    [InlineData("default", "points.expiry", """{ "policy": "days-after-earning", "days": 0 }""", "points.expiry.days", "must be between 1 and 36500")]
    [InlineData("default", "points.expiry", """{ "policy": "never", "days": 30 }""", "points.expiry.days", "not allowed unless policy is days-after-earning")]
    [InlineData("default", "points.expiry", """{ "policy": "end-of-year", "days": 30 }""", "points.expiry.days", "not allowed unless policy is days-after-earning")]
    [InlineData("default", "points.expiry.yearsAfter", "-1", "points.expiry.yearsAfter", "must be between 0 and 100")]
    [InlineData("default", "points.expiringSoonDays", "-1", "points.expiringSoonDays", "must be between 0 and 3650")]
    // benefits
    [InlineData("default", "benefits[0].code", "\"free shipping\"", "benefits[0].code", "'free shipping' must be 1 to 32 lowercase letters")]
    [InlineData("default", "benefits[1].code", "\"free-shipping\"", "benefits[1].code", "'free-shipping' is already used by benefits[0]")]
    [InlineData("default", "benefits[0].name", Remove, "benefits[0].name", "is required")]
    [InlineData("default", "benefits[0].period", "\"week\"", "benefits[0].period", "'week' must be one of: month, year, lifetime")]
    [InlineData("default", "benefits[1].valueRule", "\"best\"", "benefits[1].valueRule", "'best' must be one of: lowest, highest")]
    [InlineData("default", "benefits[3].window.fromDayOfMonth", "31", "benefits[3].window.fromDayOfMonth", "must be between 1 and 28")]
    [InlineData("default", "benefits[3].window.birthdayMonth", "\"yes\"", "benefits[3].window.birthdayMonth", "must be true or false")]
    [InlineData("default", "benefits[3].window.birthdayMonths", "true", "benefits[3].window.birthdayMonths", "unknown property")]
    [InlineData("default", "benefits[0].grants", Remove, "benefits[0].grants", "is required")]
    [InlineData("default", "benefits[0].grants", "[]", "benefits[0].grants", "must not be empty")]
    [InlineData("default", "benefits[0].grants[0].tiers[0]", "\"silvr\"", "benefits[0].grants[0].tiers[0]", "unknown tier 'silvr'; defined tiers: member, silver, gold, platinum, diamond")]
    [InlineData("default", "benefits[0].grants[0].tiers", "[]", "benefits[0].grants[0].tiers", "must not be empty")]
    [InlineData("default", "benefits[2].grants[0].tiers[1]", "\"platinum\"", "benefits[2].grants[0].tiers[1]", "'platinum' is listed twice")]
    [InlineData("default", "benefits[1].grants[3].plans[0]", "\"vip\"", "benefits[1].grants[3].plans[0]", "unknown plan 'vip'; defined plans: plus")]
    [InlineData("default", "benefits[0].grants[0].minTier", "\"gold\"", "benefits[0].grants[0].minTier", "cannot be combined with tiers")]
    [InlineData("default", "benefits[3].grants[0].minTier", "\"bronze\"", "benefits[3].grants[0].minTier", "unknown tier 'bronze'")]
    [InlineData("default", "benefits[2].grants[0]", """{ "quota": 1 }""", "benefits[2].grants[0]", "must say who is entitled: tiers, minTier or plans")]
    [InlineData("default", "benefits[0].grants[0].quota", "0", "benefits[0].grants[0].quota", "must be at least 1")]
    [InlineData("default", "benefits[0].grants[0].quota", "1.5", "benefits[0].grants[0].quota", "must be an integer")]
    [InlineData("default", "benefits[0].grants[0].quota", "3000000000", "benefits[0].grants[0].quota", "must be at most 2147483647")]
    [InlineData("default", "benefits[1].grants[0].value", "0", "benefits[1].grants[0].value", "must be greater than 0")]
    [InlineData("default", "benefits[1].grants[0].value", "1000000000.01", "benefits[1].grants[0].value", "must be at most 1000000000")]
    [InlineData("default", "benefits[1].grants[0].discount", "0.9", "benefits[1].grants[0].discount", "unknown property")]
    [InlineData("default", "benefits[0].grants[3].earnedBy", """{ "counter": "stamps", "every": 10 }""", "benefits[0].grants[3].earnedBy.counter", "unknown counter 'stamps'; no event type has counters")]
    [InlineData("coffee-club", "benefits[0].grants[0].earnedBy.counter", "\"beans\"", "benefits[0].grants[0].earnedBy.counter", "unknown counter 'beans'; event types count: stamps")]
    [InlineData("coffee-club", "benefits[0].grants[0].earnedBy.every", "0", "benefits[0].grants[0].earnedBy.every", "must be at least 1")]
    [InlineData("coffee-club", "benefits[0].grants[0].earnedBy.every", Remove, "benefits[0].grants[0].earnedBy.every", "is required")]
    [InlineData("coffee-club", "benefits[0].grants[0].quota", "3", "benefits[0].grants[0].earnedBy", "cannot be combined with quota")]
    [InlineData("coffee-club", "benefits[0].period", "\"month\"", "benefits[0].grants[0].earnedBy", "needs the benefit's period to be lifetime")]
    [InlineData("coffee-club", "benefits[0].period", Remove, "benefits[0].grants[0].earnedBy", "needs the benefit's period to be lifetime")]
    // plans
    [InlineData("default", "plans", "{}", "plans", "must be an array")]
    [InlineData("default", "plans[0].code", "\"PLUS\"", "plans[0].code", "'PLUS' must be 1 to 32 lowercase letters")]
    [InlineData("default", "plans[0].name", "\"\"", "plans[0].name", "must not be empty")]
    [InlineData("default", "plans[0].terms", Remove, "plans[0].terms", "is required")]
    [InlineData("default", "plans[0].terms", "[]", "plans[0].terms", "must not be empty")]
    [InlineData("default", "plans[0].terms[1]", "\"1Y\"", "plans[0].terms[1]", "must be \"P<n>M\" (n months, 1 to 120) or \"P<n>Y\" (n years, 1 to 10)")]
    [InlineData("default", "plans[0].terms[1]", "\"P11Y\"", "plans[0].terms[1]", "or \"P<n>Y\" (n years, 1 to 10)")]
    [InlineData("default", "plans[0].terms[1]", "\"P1M\"", "plans[0].terms[1]", "'P1M' is listed twice")]
    [InlineData("default", "plans[0].trialDays", "0", "plans[0].trialDays", "must be between 1 and 365")]
    [InlineData("default", "plans[0].price", "99", "plans[0].price", "unknown property")]
    // a pattern that also took a final newline
    [InlineData("default", "plans[0].terms[1]", "\"P1Y\\n\"", "plans[0].terms[1]", "must be \"P<n>M\"")]
    [InlineData("default", "plans[0].code", "\"plus\\n\"", "plans[0].code", "must be 1 to 32 lowercase letters")]
    [InlineData("default", "currency", "\"CNY\\n\"", "currency", "must be 3 uppercase letters")]
    [InlineData("default", "eventTypes[2].type", "\"sign-in\\n\"", "eventTypes[2].type", "must be 1 to 64 lowercase letters")]
    public void Rejects_with_path_and_reason(string file, string path, string value, string errorPath, string fragment)
        => AssertError(CompileErrors(Mutate(Shipped(file), path, value)), errorPath, fragment);

    // ---------------------------------------------------------------- Rules v2

    [Theory]
    // conditions: every part checked on its own
    [InlineData("default", "multipliers[0].when", """{ "minTier": "gold", "tiers": ["gold"] }""", "multipliers[0].when.minTier", "cannot be combined with tiers")]
    [InlineData("default", "multipliers[0].when", """{ "minTier": "bronze" }""", "multipliers[0].when.minTier", "unknown tier 'bronze'")]
    [InlineData("default", "multipliers[0].when", """{ "weekday": ["monday", "monday"] }""", "multipliers[0].when.weekday[1]", "'monday' is listed twice")]
    [InlineData("default", "multipliers[0].when", """{ "weekday": [] }""", "multipliers[0].when.weekday", "must not be empty")]
    [InlineData("default", "multipliers[0].when", """{ "between": {} }""", "multipliers[0].when.between", "must have from, to or both")]
    [InlineData("default", "multipliers[0].when", """{ "between": { "from": "2026-11-11" } }""", "multipliers[0].when.between.from", "must be an ISO-8601 instant with an offset")]
    [InlineData("default", "multipliers[0].when", """{ "between": { "from": "2026-11-11T00:00:00" } }""", "multipliers[0].when.between.from", "must be an ISO-8601 instant with an offset")]
    [InlineData("default", "multipliers[0].when", """{ "between": { "from": "2026-11-12T00:00:00+08:00", "to": "2026-11-11T00:00:00+08:00" } }""", "multipliers[0].when.between.to", "must be later than from")]
    [InlineData("default", "multipliers[0].when", """{ "fromDayOfMonth": 29 }""", "multipliers[0].when.fromDayOfMonth", "must be between 1 and 28")]
    [InlineData("default", "multipliers[0].when", """{ "anniversary": false }""", "multipliers[0].when.anniversary", "must be true")]
    [InlineData("default", "multipliers[0].when", """{ "planEnding": { "plan": "plus" } }""", "multipliers[0].when.planEnding.withinDays", "is required")]
    [InlineData("default", "multipliers[0].when", """{ "planEnding": { "plan": "gold", "withinDays": 7 } }""", "multipliers[0].when.planEnding.plan", "unknown plan 'gold'")]
    [InlineData("default", "multipliers[0].when", """{ "attributes": {} }""", "multipliers[0].when.attributes", "must name at least one attribute")]
    [InlineData("default", "multipliers[0].when", """{ "attributes": { "category": [] } }""", "multipliers[0].when.attributes.category", "must not be empty")]
    [InlineData("default", "multipliers[0].when", """{ "attributes": { "1x": ["a"] } }""", "multipliers[0].when.attributes.1x", "attribute name '1x' must be 1 to 64 letters")]
    [InlineData("default", "benefits[0].window", """{ "attributes": { "category": ["a"] } }""", "benefits[0].window.attributes", "not allowed here")]
    [InlineData("default", "benefits[0].grants[0].when", """{ "planActive": "gold" }""", "benefits[0].grants[0].when.planActive", "unknown plan 'gold'")]
    [InlineData("default", "benefits[0].grants[0].when", "{}", "benefits[0].grants[0].when", "must have at least one condition")]
    [InlineData("default", "benefits[0].window", """{ "weekday": "funday" }""", "benefits[0].window.weekday", "'funday' must be one of")]
    [InlineData("default", "benefits[0].period", "\"week\"", "benefits[0].period", "'week' must be one of: month, year, lifetime, day")]
    // event attributes, rules, counters
    [InlineData("vipshop", "eventTypes[0].growth.of", "\"qualified amount\"", "eventTypes[0].growth.of", "'qualified amount' must be 1 to 64 letters")]
    [InlineData("vipshop", "eventTypes[0].growth", """{ "fixed": 5, "of": "qualifiedAmount" }""", "eventTypes[0].growth.of", "not allowed with fixed")]
    [InlineData("vipshop", "eventTypes[2].growth", """{ "perAmount": 5 }""", "eventTypes[2].growth.perAmount", "not allowed for an activity (it has no amount); use fixed")]
    [InlineData("vipshop", "eventTypes[0].when", """{ "attributes": { "qualifiedAmount": ["a"] } }""", "eventTypes[0].growth.of", "attribute 'qualifiedAmount' is read as a number here but as text elsewhere")]
    [InlineData("vipshop", "eventTypes[0].rules", """[ { "growth": { "fixed": 1 } } ]""", "eventTypes[0].rules[0].when", "is required")]
    [InlineData("vipshop", "eventTypes[0].rules", """[ { "when": { "birthdayMonth": true }, "pointMultipliers": ["tier"] } ]""", "eventTypes[0].rules[0].pointMultipliers", "only allowed when points is set")]
    [InlineData("vipshop", "eventTypes[1].rules", """[ { "when": { "birthdayMonth": true } } ]""", "eventTypes[1].rules", "not allowed on a refund")]
    [InlineData("coffee", "eventTypes[0].counters.stamps", "\"cups\"", "eventTypes[0].counters.stamps", "must be an integer added per event, or {\"attribute\": name}")]
    [InlineData("coffee", "eventTypes[0].counters.stamps", """{ "attribute": "" }""", "eventTypes[0].counters.stamps.attribute", "must not be empty")]
    [InlineData("coffee", "eventTypes[0].counters.stamps", """{ "quantity": "cups" }""", "eventTypes[0].counters.stamps.quantity", "unknown property")]
    // caps and limits
    [InlineData("taobao", "eventTypes[0].caps[0].on", "\"xp\"", "eventTypes[0].caps[0].on", "'xp' must be one of: growth, points")]
    [InlineData("taobao", "eventTypes[0].caps[0].per", "\"week\"", "eventTypes[0].caps[0].per", "'week' must be one of: event, day, month")]
    [InlineData("taobao", "eventTypes[0].caps[0].max", "0", "eventTypes[0].caps[0].max", "must be at least 1")]
    [InlineData("taobao", "eventTypes[0].caps[0].by", "\"shop\"", "eventTypes[0].caps[0].by", "not allowed with per event")]
    [InlineData("taobao", "eventTypes[0].caps[1].per", "\"event\"", "eventTypes[0].caps[1]", "caps[0] already caps the same")]
    [InlineData("taobao", "eventTypes[2].caps[0].on", "\"points\"", "eventTypes[2].caps[0].on", "the event type earns no points")]
    [InlineData("taobao", "eventTypes[0].caps[3].by", "\"amount\"", "eventTypes[0].caps[3].by", "")] // a text attribute named like the field is fine
    [InlineData("vipshop", "eventTypes[2].limit.perMonth", "0", "eventTypes[2].limit.perMonth", "must be at least 1")]
    // streaks
    [InlineData("jd", "eventTypes[0].streak.period", "\"week\"", "eventTypes[0].streak.period", "'week' must be one of: day, month")]
    [InlineData("jd", "eventTypes[0].streak.rewards[1].from", "3", "eventTypes[0].streak.rewards[1].from", "must be greater than the row before (3)")]
    [InlineData("jd", "eventTypes[2].streak.rewards[1].from", "8", "eventTypes[2].streak.rewards[1].from", "can never apply: the streak starts again after 7")]
    [InlineData("jd", "eventTypes[2].streak.rewards[0]", """{ "from": 1 }""", "eventTypes[2].streak.rewards[0]", "must have growth, points or both")]
    [InlineData("jd", "eventTypes[2].streak.cycle", "1", "eventTypes[2].streak.cycle", "must be between 2 and 366")]
    [InlineData("jd", "eventTypes[1].streak", """{ "period": "day", "rewards": [ { "from": 1, "points": 1 } ] }""", "eventTypes[1].streak", "not allowed on a refund")]
    // calendar re-grade, decline
    [InlineData("taobao", "tierValidity", "\"P12M\"", "regrade", "cannot be combined with tierValidity")]
    [InlineData("taobao", "regrade.dayOfMonth", "29", "regrade.dayOfMonth", "must be between 1 and 28")]
    [InlineData("tencent-video", "qualifying.window", "\"P12M\"", "growthDecline", "needs qualifying.window \"lifetime\"")]
    [InlineData("tencent-video", "growthDecline.perDay", "0", "growthDecline.perDay", "must be between 1 and 1000000000")]
    // plans with prices
    [InlineData("taobao", "plans[0].terms[0].price", "-1", "plans[0].terms[0].price", "must be an amount of money")]
    [InlineData("taobao", "plans[0].terms[0].price", "88.001", "plans[0].terms[0].price", "must be an amount of money")]
    [InlineData("taobao", "plans[0].terms[0].price", Remove, "plans[0].terms[0].offers", "needs price")]
    [InlineData("taobao", "plans[0].terms[0].offers[0].when", """{ "attributes": { "a": ["b"] } }""", "plans[0].terms[0].offers[0].when.attributes", "not allowed here")]
    [InlineData("taobao", "plans[0].terms[0].offers[0].price", Remove, "plans[0].terms[0].offers[0].price", "is required")]
    [InlineData("taobao", "plans[0].terms[0].term", "\"P1W\"", "plans[0].terms[0].term", "must be \"P<n>M\"")]
    [InlineData("taobao", "plans[0].terms", """[ "P1Y", { "term": "P1Y" } ]""", "plans[0].terms[1].term", "'P1Y' is listed twice")]
    [InlineData("weibo", "plans[0].terms[0].growthPerDay", "-1", "plans[0].terms[0].growthPerDay", "must be between 0 and 1000000000")]
    [InlineData("weibo", "plans[0].expiringNoticeDays", "366", "plans[0].expiringNoticeDays", "must be between 0 and 365")]
    public void Rejects_rules_v2_mistakes_with_path_and_reason(string file, string path, string value, string errorPath, string fragment)
    {
        var json = Mutate(Shipped(file), path, value);
        if (fragment.Length == 0)
        {
            CompileOk(file, json);
            return;
        }
        AssertError(CompileErrors(json), errorPath, fragment);
    }

    [Fact]
    public void A_condition_with_two_bad_values_reports_each_at_its_path()
    {
        var errors = CompileErrors(Mutate(Shipped("default"), "multipliers[0].when", """{ "weekday": "funday", "tiers": ["gold", "bronze"], "planActive": "gold" }"""));
        Assert.Equal(
            [
                ("multipliers[0].when.planActive", "unknown plan 'gold'; defined plans: plus"),
                ("multipliers[0].when.weekday", "'funday' must be one of: monday, tuesday, wednesday, thursday, friday, saturday, sunday"),
                ("multipliers[0].when.tiers[1]", "unknown tier 'bronze'; defined tiers: member, silver, gold, platinum, diamond"),
            ],
            errors.Select(e => (e.Path, e.Message)));
    }

    [Fact]
    public void A_program_may_sell_plans_only()
    {
        var sams = CompileOk("sams", Shipped("sams"));
        Assert.Empty(sams.EventTypes);
        var plus = sams.Plans["plus"];
        var term = Assert.Single(plus.TermRules);
        Assert.Equal(("P1Y", 680m, 580m, 30), (term.Term, term.Price, term.Offers.Single().Price, plus.ExpiringNoticeDays));
        Assert.Equal(new PlanEnding("plus", 30), term.Offers.Single().When.PlanEnding);
        var withoutEvents = Mutate(Shipped("sams"), "eventTypes", Remove);
        Assert.Empty(CompileOk("sams", withoutEvents).EventTypes);
    }

    [Fact]
    public void An_event_type_reads_the_attributes_of_its_formulas_counters_caps_conditions_and_multipliers()
    {
        var taobao = CompileOk("taobao", Mutate(Shipped("taobao"), "multipliers[1].when", """{ "attributes": { "channel": ["app"] } }"""));
        Assert.Equal(
            [new AttributeUse("category", AttributeKind.Text), new AttributeUse("shop", AttributeKind.Text), new AttributeUse("channel", AttributeKind.Text)],
            taobao.EventTypes["order.paid"].Attributes.OrderBy(a => a.Name == "channel").ThenBy(a => a.Name));
        Assert.Equal([new AttributeUse("qualifiedAmount", AttributeKind.Number)], CompileOk("vipshop", Shipped("vipshop")).EventTypes["order.paid"].Attributes);
        Assert.Equal([new AttributeUse("cups", AttributeKind.Integer)], CompileOk("coffee", Shipped("coffee")).EventTypes["order.paid"].Attributes);
        Assert.Empty(CompileOk("default", Shipped("default")).EventTypes["order.paid"].Attributes);
    }

    [Fact]
    public void Rejects_a_root_that_is_not_an_object()
    {
        var error = Assert.Single(CompileErrors("[]"));
        Assert.Equal(new ProgramError("$", "must be an object"), error);
    }

    [Fact]
    public void Rejects_invalid_json_at_the_root()
    {
        var error = Assert.Single(CompileErrors("{\n  \"name\": x }"));
        Assert.Equal("$", error.Path);
        // Where, counted from 1 as an editor counts, and not the parser's own zero-based suffix.
        Assert.Equal("not valid JSON: 'x' is an invalid start of a value (line 2, byte 11)", error.Message);
    }

    [Theory]
    [InlineData("""{ "name": "Gifts \ud83c" }""", "name")]
    [InlineData("""{ "tiers": [ { "name": "ok" }, { "code\udc81": 1 } ] }""", "tiers[1]")]
    public void Rejects_text_with_half_a_surrogate_pair_naming_where(string json, string path)
    {
        var error = Assert.Single(CompileErrors(json));
        Assert.Equal(new ProgramError(path, JsonText.BrokenText), error);
    }

    [Fact]
    public void Rejects_a_repeated_property()
    {
        var json = Minimal.Replace("\"name\": \"Minimal\",", "\"name\": \"Minimal\", \"name\": \"Again\",");
        AssertError(CompileErrors(json), "name", "duplicate property");
    }

    [Fact]
    public void Rejects_a_purchase_that_earns_nothing()
    {
        var json = Mutate(Mutate(Shipped("default"), "eventTypes[0].growth", Remove), "eventTypes[0].points", Remove);
        var errors = CompileErrors(json);

        AssertError(errors, "eventTypes[0]", "a purchase must earn growth, points or both");
        AssertError(errors, "eventTypes[0].pointMultipliers", "only allowed when points is set");
    }

    [Fact]
    public void Reports_every_problem_not_just_the_first()
    {
        const string json = """
            {
              "name": "",
              "currency": "yuan",
              "timeZone": "Asia/Shanghai",
              "qualifying": { "window": "P12M" },
              "tiers": [
                { "code": "member", "name": "Member", "threshold": 0 },
                { "code": "silver", "name": "Silver", "threshold": 1000 },
                { "code": "gold", "name": "Gold", "threshold": 500 }
              ],
              "eventTypes": [
                { "type": "order.paid", "kind": "purchase", "points": { "perAmount": 1 }, "pointMultipliers": ["tier", "happy-hour"] },
                { "type": "sign-in", "kind": "activity", "growth": { "perAmount": 1 } }
              ],
              "benefits": [
                { "code": "gift", "name": "Gift", "grants": [ { "tiers": ["bronze"] } ] }
              ],
              "plans": [ { "code": "plus", "name": "Plus", "terms": ["P1W"], "trialDay": 7 } ]
            }
            """;
        var errors = CompileErrors(json);

        Assert.Equal(
            [
                ("name", "must not be empty"),
                ("currency", "'yuan' must be 3 uppercase letters (an ISO 4217 code such as CNY)"),
                ("tiers[2].threshold", "must be greater than tiers[1].threshold (1000)"),
                ("eventTypes[0].pointMultipliers[1]", "unknown multiplier 'happy-hour'; defined multipliers: tier"),
                ("eventTypes[1].growth.perAmount", "not allowed for an activity (it has no amount); use fixed"),
                ("benefits[0].grants[0].tiers[0]", "unknown tier 'bronze'; defined tiers: member, silver, gold"),
                ("plans[0].trialDay", "unknown property; expected one of: code, name, terms, trialDays, expiringNoticeDays"),
                ("plans[0].terms[0]", "'P1W' must be \"P<n>M\" (n months, 1 to 120) or \"P<n>Y\" (n years, 1 to 10)"),
            ],
            errors.Select(e => (e.Path, e.Message)));
    }
}
