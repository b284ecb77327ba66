using System.Globalization;
using System.Net;
using System.Text.Json;
using Orleans.Membership.Tests.Support;
using static Orleans.Membership.Tests.Support.MemberHarness;

namespace Orleans.Membership.Tests.Api;

/// <summary>The seed programs' tests run one after the other: each starts a node of its own.</summary>
[CollectionDefinition(Name)]
public sealed class SeedProgramsCollection
{
    public const string Name = "seed programs, a node per test";
}

/// <summary>
/// What every seed program's tests do over HTTP: a real node that loaded <c>programs/*.json</c>, started at
/// the test's first instant with a clock the test moves forward, members of its own. Expectations are
/// computed by hand from docs/programs.md.
/// </summary>
public abstract class SeedProgramTest(string programId) : IAsyncLifetime
{
    private ClockedNodeFixture? _node;

    protected HttpClient Http => _node!.Http;
    protected string P { get; } = $"/v1/programs/{programId}";

    protected static string NewMember() => "m" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Starts the test's node with its clock at <paramref name="iso"/>.</summary>
    protected async Task Start(string iso) => _node = await ClockedNodeFixture.StartAt(iso);

    /// <summary>Moves the node's clock forward to <paramref name="iso"/>.</summary>
    protected void Clock(string iso)
    {
        var at = At(iso);
        Assert.True(at >= _node!.Clock.Now, "the clock only moves forward");
        _node.Clock.Now = at;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
    }

    /// <summary>An event as JSON; <paramref name="attributes"/> is the attributes object's text.</summary>
    protected static string Event(string id, string member, string type, string at, string? orderId = null, decimal? amount = null, string? attributes = null)
    {
        var fields = new List<string>
        {
            $"\"eventId\":\"{id}\"", $"\"memberId\":\"{member}\"", $"\"type\":\"{type}\"", $"\"occurredAt\":\"{at}\"",
        };
        if (orderId is not null) fields.Add($"\"orderId\":\"{orderId}\"");
        if (amount is not null) fields.Add($"\"amount\":{amount.Value.ToString(CultureInfo.InvariantCulture)}");
        if (attributes is not null) fields.Add($"\"attributes\":{attributes}");
        return "{" + string.Join(",", fields) + "}";
    }

    /// <summary>Posts a batch; returns the answer's body after checking the status.</summary>
    protected async Task<JsonElement> Events(params string[] events)
    {
        var (status, body) = await Http.Post($"{P}/events", $$"""{"events":[{{string.Join(",", events)}}]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        return body;
    }

    protected async Task Accepted(params string[] events)
    {
        var body = await Events(events);
        Assert.True(events.Length == body.GetProperty("accepted").GetInt32(), body.ToString());
    }

    protected async Task<JsonElement> Summary(string member)
    {
        var (status, body) = await Http.Get($"{P}/members/{member}");
        Assert.Equal(HttpStatusCode.OK, status);
        return body;
    }

    protected async Task<(long Lifetime, long Qualifying, long Balance, string Tier)> Figures(string member)
    {
        var s = await Summary(member);
        return (s.GetProperty("growth").GetProperty("lifetime").GetInt64(), s.GetProperty("growth").GetProperty("qualifying").GetInt64(),
            s.GetProperty("points").GetProperty("balance").GetInt64(), s.GetProperty("tier").GetProperty("code").GetString()!);
    }

    /// <summary>The statement, newest first (one page of up to 1,000 lines).</summary>
    protected async Task<List<JsonElement>> Ledger(string member)
    {
        var (status, body) = await Http.Get($"{P}/members/{member}/ledger?limit=1000");
        Assert.Equal(HttpStatusCode.OK, status);
        return [.. body.GetProperty("entries").EnumerateArray()];
    }

    protected async Task<JsonElement> Check(string member, string code)
    {
        var (status, body) = await Http.Get($"{P}/members/{member}/benefits/{code}");
        Assert.Equal(HttpStatusCode.OK, status);
        return body;
    }

    protected Task<(HttpStatusCode Status, JsonElement Body)> Use(string member, string code, string useId)
        => Http.Post($"{P}/members/{member}/benefits/{code}/uses", $$"""{"useId":"{{useId}}"}""");

    protected async Task<JsonElement> Subscribe(string member, string id, string plan, string action, string? term = null)
    {
        var termJson = term is null ? "" : $",\"term\":\"{term}\"";
        var (status, body) = await Http.Post($"{P}/members/{member}/subscription", $$"""{"subscriptionEventId":"{{id}}","plan":"{{plan}}","action":"{{action}}"{{termJson}}}""");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        return body;
    }

    protected async Task<JsonElement> Plans(string member)
    {
        var (status, body) = await Http.Get($"{P}/members/{member}/plans");
        Assert.Equal(HttpStatusCode.OK, status);
        return body;
    }

    protected async Task<decimal?> Price(string member, string plan, string term)
    {
        var offer = (await Plans(member)).GetProperty("plans").EnumerateArray().Single(p => p.GetProperty("code").GetString() == plan);
        var price = offer.GetProperty("terms").EnumerateArray().Single(t => t.GetProperty("term").GetString() == term).GetProperty("price");
        return price.ValueKind == JsonValueKind.Null ? null : price.GetDecimal();
    }

    protected static DateTimeOffset Instant(JsonElement e) => e.GetDateTimeOffset();
}

[Collection(SeedProgramsCollection.Name)]
public sealed class VipshopProgramTests() : SeedProgramTest("vipshop")
{
    [Fact]
    public async Task V_value_is_five_times_the_qualified_amount_and_refunds_take_it_back_in_proportion()
    {
        await Start("2026-11-23T12:00:00+08:00");
        var m = NewMember();
        await Accepted(Event("p1", m, "order.paid", "2026-11-01T10:00:00+08:00", "o1", 120m, """{"qualifiedAmount":100}"""));
        Assert.Equal((500L, 500L, 100L, "v1"), await Figures(m));

        await Accepted(Event("r1", m, "order.refunded", "2026-11-02T10:00:00+08:00", "o1", 60m));
        var claw = (await Ledger(m))[0];
        Assert.Equal(("clawback", -250L, -50L), (claw.GetProperty("kind").GetString(), claw.GetProperty("growth").GetInt64(), claw.GetProperty("points").GetInt64()));

        // 600 qualified of 700 paid: 3,000 V值 more, 250 + 3,000 reaches V2.
        await Accepted(Event("p2", m, "order.paid", "2026-11-03T10:00:00+08:00", "o2", 700m, """{"qualifiedAmount":600}"""));
        Assert.Equal((3250L, 3250L, 650L, "v2"), await Figures(m));
        var earn = (await Ledger(m)).First(e => e.GetProperty("kind").GetString() == "earn");
        Assert.Equal(600m, earn.GetProperty("detail").GetProperty("growthBase").GetDecimal());
        Assert.Equal(2, (await Check(m, "free-shipping")).GetProperty("remaining").GetInt32());
    }

    [Fact]
    public async Task An_order_without_its_qualified_amount_is_rejected_naming_the_attribute()
    {
        await Start("2026-11-23T12:00:00+08:00");
        var m = NewMember();
        var body = await Events(
            Event("p1", m, "order.paid", "2026-11-01T10:00:00+08:00", "o1", 120m),
            Event("p2", m, "order.paid", "2026-11-01T10:00:00+08:00", "o2", 120m, """{"qualifiedAmount":"100"}"""),
            Event("p3", m, "order.paid", "2026-11-01T10:00:00+08:00", "o3", 120m, """{"qualifiedAmount":100}"""));
        Assert.Equal(1, body.GetProperty("accepted").GetInt32());
        var rejected = body.GetProperty("rejected").EnumerateArray().Select(r => (r.GetProperty("field").GetString(), r.GetProperty("error").GetString())).ToList();
        Assert.Equal(
            [
                ("events[0].attributes.qualifiedAmount", "events[0].attributes.qualifiedAmount: is required for 'order.paid'"),
                ("events[1].attributes.qualifiedAmount", "events[1].attributes.qualifiedAmount: must be a number from 0 to 1000000000 with at most 2 decimals"),
            ],
            rejected);
    }

    [Fact]
    public async Task Reviews_stop_at_20_a_month_and_interactions_at_10_growth_a_day()
    {
        await Start("2026-11-23T12:00:00+08:00");
        var m = NewMember();
        var reviews = Enumerable.Range(0, 21).Select(i => Event($"v{i}", m, "review", $"2026-10-{1 + i / 3:00}T10:0{i % 3}:00+08:00")).ToArray();
        await Accepted(reviews);
        Assert.Equal((400L, 400L, 100L, "v1"), await Figures(m));
        Assert.Equal("limit:perMonth:20", (await Ledger(m))[0].GetProperty("detail").GetProperty("note").GetString());

        await Accepted(Enumerable.Range(0, 6).Select(i => Event($"i{i}", m, "interaction", $"2026-11-03T1{i}:00:00+08:00")).ToArray());
        Assert.Equal(410, (await Figures(m)).Lifetime);
        var capped = (await Ledger(m))[0].GetProperty("detail").GetProperty("capped");
        Assert.Equal((2L, 0L, "growth per day 10"), (capped.GetProperty("growth").GetInt64(), capped.GetProperty("points").GetInt64(), capped.GetProperty("by").GetString()));
    }
}

[Collection(SeedProgramsCollection.Name)]
public sealed class TaobaoProgramTests() : SeedProgramTest("taobao")
{
    private static string Order(string m, string id, decimal amount, string category, string shop, string at)
        => Event(id, m, "order.paid", at, id, amount, $$"""{"category":"{{category}}","shop":"{{shop}}"}""");

    [Fact]
    public async Task Growth_is_capped_per_order_day_month_category_and_shop()
    {
        await Start("2026-11-23T12:00:00+08:00");
        var m = NewMember();
        await Accepted(
            Order(m, "o1", 500m, "food", "s1", "2026-10-05T10:00:00+08:00"),
            Order(m, "o2", 100m, "food", "s2", "2026-10-05T11:00:00+08:00"),
            Order(m, "o3", 100m, "food", "s3", "2026-10-05T12:00:00+08:00"),
            Order(m, "o4", 300m, "food", "s1", "2026-10-06T10:00:00+08:00"),
            Order(m, "o5", 300m, "drink", "s1", "2026-10-06T11:00:00+08:00"));
        Assert.Equal((450L, 450L, 1300L, "member"), await Figures(m));
        var earns = (await Ledger(m)).Where(e => e.GetProperty("kind").GetString() == "earn").Reverse().ToList();
        Assert.Equal([150L, 100L, 50L, 100L, 50L], earns.Select(e => e.GetProperty("growth").GetInt64()));
        var first = earns[0].GetProperty("detail").GetProperty("capped");
        Assert.Equal((350L, "growth per event 200; growth per day of each shop 150"), (first.GetProperty("growth").GetInt64(), first.GetProperty("by").GetString()));
        Assert.False(earns[1].GetProperty("detail").TryGetProperty("capped", out _));
    }

    [Fact]
    public async Task A_super_member_pays_88_for_88vip_and_tiers_are_regraded_on_the_8th()
    {
        await Start("2026-01-25T12:00:00+08:00");
        var m = NewMember();
        Assert.Equal(888m, await Price(m, "88vip", "P1Y")); // a guest
        string[] days = ["10", "10", "11", "11", "12", "12"];
        string[] categories = ["c1", "c2", "c3", "c1", "c2", "c3"];
        await Accepted(Enumerable.Range(0, 6).Select(i => Order(m, $"o{i}", 150m, categories[i], $"s{i % 2}", $"2026-01-{days[i]}T1{i % 2}:00:00+08:00")).ToArray());
        Assert.Equal(888m, await Price(m, "88vip", "P1Y"));
        await Accepted(Order(m, "o6", 100m, "c1", "s1", "2026-01-20T10:00:00+08:00"));
        var tier = (await Summary(m)).GetProperty("tier");
        Assert.Equal(("super", At("2026-01-20T10:00:00+08:00"), At("2026-02-08T00:00:00+08:00")),
            (tier.GetProperty("code").GetString(), Instant(tier.GetProperty("since")), Instant(tier.GetProperty("validUntil"))));
        Assert.Equal(88m, await Price(m, "88vip", "P1Y"));

        Clock("2026-02-08T00:00:00+08:00");
        tier = (await Summary(m)).GetProperty("tier");
        Assert.Equal((At("2026-02-08T00:00:00+08:00"), At("2026-03-08T00:00:00+08:00")), (Instant(tier.GetProperty("since")), Instant(tier.GetProperty("validUntil"))));

        Clock("2027-02-08T00:00:00+08:00"); // the year's growth has left the window: re-graded down
        Assert.Equal("member", (await Figures(m)).Tier);
        Assert.Equal(888m, await Price(m, "88vip", "P1Y"));
    }

    [Fact]
    public async Task An_88vip_member_earns_double_points_in_the_birthday_month_and_again_on_double_11()
    {
        await Start("2026-11-01T00:00:00+08:00");
        var m = NewMember();
        Assert.Equal(HttpStatusCode.Created, (await Http.Post($"{P}/members/{m}", """{"birthday":"11-05"}""")).Status);
        var bought = await Subscribe(m, "s1", "88vip", "purchase", "P1Y");
        Assert.Equal("active", bought.GetProperty("status").GetString());
        Clock("2026-12-05T12:00:00+08:00");
        await Accepted(
            Order(m, "o1", 100m, "food", "s1", "2026-11-11T10:00:00+08:00"),
            Order(m, "o2", 100m, "food", "s2", "2026-11-20T10:00:00+08:00"),
            Order(m, "o3", 100m, "food", "s3", "2026-12-01T10:00:00+08:00"));
        Assert.Equal(400 + 200 + 100, (await Figures(m)).Balance);
        var first = (await Ledger(m)).Where(e => e.GetProperty("kind").GetString() == "earn").Last();
        Assert.Equal("x4", first.GetProperty("detail").GetProperty("multiplier").GetString());
        var price = await Check(m, "vip-price");
        Assert.Equal((true, 0.95m), (price.GetProperty("entitled").GetBoolean(), price.GetProperty("value").GetDecimal()));
    }
}

[Collection(SeedProgramsCollection.Name)]
public sealed class JdProgramTests() : SeedProgramTest("jd")
{
    [Fact]
    public async Task Plus_members_claim_a_welfare_coupon_each_month_from_the_2nd_and_earn_double_jingdou()
    {
        await Start("2026-12-01T10:00:00+08:00");
        var m = NewMember();
        Assert.Equal("trial", (await Subscribe(m, "s1", "plus", "trial")).GetProperty("status").GetString());
        Assert.Equal("window", (await Check(m, "welfare-coupon")).GetProperty("reason").GetString());
        var plans = (await Plans(m)).GetProperty("plans")[0];
        Assert.Equal((false, 198m), (plans.GetProperty("trialAvailable").GetBoolean(), plans.GetProperty("terms")[0].GetProperty("price").GetDecimal()));

        await Accepted(Event("p1", m, "order.paid", "2026-12-01T10:00:00+08:00", "o1", 100m));
        Assert.Equal((100L, 20L), ((await Figures(m)).Lifetime, (await Figures(m)).Balance)); // 10 京豆 x2 while PLUS runs

        Clock("2026-12-02T00:00:00+08:00");
        var check = await Check(m, "welfare-coupon");
        Assert.Equal((true, 1, At("2027-01-01T00:00:00+08:00")), (check.GetProperty("entitled").GetBoolean(), check.GetProperty("remaining").GetInt32(), Instant(check.GetProperty("resetsAt"))));
        Assert.Equal(HttpStatusCode.Created, (await Use(m, "welfare-coupon", "u1")).Status);
        var again = await Use(m, "welfare-coupon", "u2");
        Assert.Equal((HttpStatusCode.Conflict, "quota"), (again.Status, again.Body.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task Sign_in_jingdou_rise_with_the_streak_and_start_again_after_seven_days()
    {
        await Start("2026-11-23T12:00:00+08:00");
        var m = NewMember();
        await Accepted(Enumerable.Range(1, 8).Select(d => Event($"s{d}", m, "sign-in", $"2026-11-{d:00}T08:00:00+08:00")).ToArray());
        Assert.Equal(8 + 2 * 4 + 10, (await Figures(m)).Balance);
        var rewards = (await Ledger(m)).Where(e => e.GetProperty("detail").TryGetProperty("reward", out _)).Select(e => e.GetProperty("detail").GetProperty("streak").GetInt32()).Reverse();
        Assert.Equal([3, 4, 5, 6, 7], rewards);
    }

    [Fact]
    public async Task Three_months_in_a_row_with_a_purchase_earn_100_jingxiang_more()
    {
        await Start("2026-11-23T12:00:00+08:00");
        var m = NewMember();
        await Accepted(
            Event("a", m, "order.paid", "2026-01-15T10:00:00+08:00", "a", 100m),
            Event("b", m, "order.paid", "2026-02-15T10:00:00+08:00", "b", 100m),
            Event("c", m, "order.paid", "2026-03-15T10:00:00+08:00", "c", 100m));
        Assert.Equal((400L, 30L), ((await Figures(m)).Lifetime, (await Figures(m)).Balance));
        var reward = (await Ledger(m))[0];
        Assert.Equal((100L, null, 3), (reward.GetProperty("growth").GetInt64(), reward.GetProperty("eventId").GetString(), reward.GetProperty("detail").GetProperty("streak").GetInt32()));
    }
}

[Collection(SeedProgramsCollection.Name)]
public sealed class WeiboProgramTests() : SeedProgramTest("weibo")
{
    [Fact]
    public async Task A_yearly_member_earns_200_at_once_then_15_a_day_and_the_statement_dates_each_day()
    {
        await Start("2026-01-01T10:00:00+08:00");
        var m = NewMember();
        var plans = (await Plans(m)).GetProperty("plans")[0].GetProperty("terms");
        Assert.Equal([("P1M", 15m, 10L, 0L), ("P1Y", 178m, 15L, 200L)], plans.EnumerateArray().Select(t =>
            (t.GetProperty("term").GetString(), t.GetProperty("price").GetDecimal(), t.GetProperty("growthPerDay").GetInt64(), t.GetProperty("bonusGrowth").GetInt64())));
        await Subscribe(m, "s1", "vip", "purchase", "P1Y");
        Assert.Equal((200L, "vip1"), ((await Figures(m)).Lifetime, (await Figures(m)).Tier));

        Clock("2026-03-01T12:00:00+08:00"); // 59 days: 01-02 .. 03-01
        var tier = (await Summary(m)).GetProperty("tier");
        Assert.Equal((1085L, "vip2", At("2026-01-28T00:00:00+08:00")), ((await Figures(m)).Lifetime, tier.GetProperty("code").GetString(), Instant(tier.GetProperty("since"))));

        var ledger = await Ledger(m);
        Assert.Equal(1085, ledger.Sum(e => e.GetProperty("growth").GetInt64()));
        Assert.Equal(("tier", At("2026-01-28T00:00:00+08:00")), (ledger[0].GetProperty("kind").GetString(), Instant(ledger[0].GetProperty("occurredAt"))));
        var accrual = ledger[1];
        Assert.Equal(("accrual", 885L, At("2026-03-01T00:00:00+08:00")), (accrual.GetProperty("kind").GetString(), accrual.GetProperty("growth").GetInt64(), Instant(accrual.GetProperty("occurredAt"))));
        var run = accrual.GetProperty("detail").GetProperty("runs")[0];
        Assert.Equal(("accrual", At("2026-01-02T00:00:00+08:00"), 59, 15L),
            (run.GetProperty("rule").GetString(), Instant(run.GetProperty("from")), run.GetProperty("days").GetInt32(), run.GetProperty("perDay").GetInt64()));
        Assert.Equal(1085, (await Figures(m)).Lifetime); // reading the statement changed nothing
    }

    [Fact]
    public async Task Tasks_earn_only_while_the_membership_runs()
    {
        await Start("2026-01-01T10:00:00+08:00");
        var m = NewMember();
        await Accepted(Event("t1", m, "task", "2026-01-01T10:00:00+08:00"));
        Assert.Equal("condition", (await Ledger(m))[0].GetProperty("detail").GetProperty("note").GetString());
        await Subscribe(m, "s1", "vip", "purchase", "P1M");
        await Accepted(Event("t2", m, "task", "2026-01-01T10:00:00+08:00"));
        Assert.Equal(5, (await Figures(m)).Lifetime);
        Assert.Equal("tier", (await Check(m, "edit-post")).GetProperty("reason").GetString()); // VIP3 and VIP needed
    }
}

[Collection(SeedProgramsCollection.Name)]
public sealed class TencentVideoProgramTests() : SeedProgramTest("tencent-video")
{
    [Fact]
    public async Task Growth_declines_5_a_day_after_vip_ends_and_never_below_zero()
    {
        await Start("2026-01-01T10:00:00+08:00");
        var m = NewMember();
        await Subscribe(m, "s1", "vip", "purchase", "P1M"); // 01-02 .. 02-01: 31 days of 10
        Clock("2026-03-01T12:00:00+08:00"); // 02-02 .. 03-01: 28 days of -5
        Assert.Equal(170, (await Figures(m)).Lifetime);
        Clock("2026-04-10T12:00:00+08:00");
        Assert.Equal(0, (await Figures(m)).Lifetime);
        var runs = (await Ledger(m)).First(e => e.GetProperty("kind").GetString() == "accrual").GetProperty("detail").GetProperty("runs");
        Assert.Equal([("accrual", 31, 10L), ("decline", 62, -5L)], runs.EnumerateArray().Select(r =>
            (r.GetProperty("rule").GetString(), r.GetProperty("days").GetInt32(), r.GetProperty("perDay").GetInt64())));
    }

    [Fact]
    public async Task Watching_earns_growth_by_the_minute_up_to_20_a_day_and_vcoins_are_bought_and_spent()
    {
        await Start("2026-11-23T12:00:00+08:00");
        var m = NewMember();
        await Accepted(
            Event("w1", m, "watch", "2026-11-23T10:00:00+08:00", attributes: """{"minutes":300}"""),
            Event("v1", m, "vcoin.topup", "2026-11-23T10:05:00+08:00", "v1", 30m));
        var (lifetime, _, balance, _) = await Figures(m);
        Assert.Equal((20L, 30L), (lifetime, balance));
        var watch = (await Ledger(m)).Single(e => e.GetProperty("detail").TryGetProperty("capped", out _));
        Assert.Equal(10, watch.GetProperty("detail").GetProperty("capped").GetProperty("growth").GetInt64());
        var spent = await Http.Post($"{P}/members/{m}/points/redemptions", """{"redemptionId":"r1","points":10,"reason":"rent-a-movie"}""");
        Assert.Equal((HttpStatusCode.Created, 20L), (spent.Status, spent.Body.GetProperty("balance").GetInt64()));
        var missing = await Events(Event("w2", m, "watch", "2026-11-23T11:00:00+08:00"));
        Assert.Equal("events[0].attributes.minutes", missing.GetProperty("rejected")[0].GetProperty("field").GetString());
    }

    [Fact]
    public async Task Level_perks_need_the_level_and_vip_together()
    {
        await Start("2026-01-01T10:00:00+08:00");
        var m = NewMember();
        await Subscribe(m, "s1", "vip", "purchase", "P1Y"); // 15 a day: V3 (1,800) at 05-01
        Clock("2026-06-01T12:00:00+08:00");
        Assert.Equal("v3", (await Figures(m)).Tier);
        var gift = await Check(m, "level-gift");
        Assert.Equal((true, 1), (gift.GetProperty("entitled").GetBoolean(), gift.GetProperty("remaining").GetInt32()));
        Clock("2027-01-01T10:00:00+08:00");
        Assert.Equal("tier", (await Check(m, "level-gift")).GetProperty("reason").GetString());
        Assert.Equal("v4", (await Figures(m)).Tier); // 365 days of 15: 5,475; the level stays after the plan, the perk does not
    }
}

[Collection(SeedProgramsCollection.Name)]
public sealed class NeteaseProgramTests() : SeedProgramTest("netease")
{
    [Fact]
    public async Task Five_active_days_make_a_section_chief_and_sign_in_coins_rise_with_the_streak()
    {
        await Start("2026-11-23T12:00:00+08:00");
        var m = NewMember();
        var events = new List<string>();
        for (var d = 1; d <= 5; d++)
        {
            var day = $"2026-11-{d:00}";
            events.Add(Event($"s{d}", m, "sign-in", $"{day}T08:00:00+08:00"));
            for (var i = 0; i < 10; i++) events.Add(Event($"c{d}-{i}", m, "comment", $"{day}T09:{i:00}:00+08:00"));
            for (var i = 0; i < 5; i++) events.Add(Event($"h{d}-{i}", m, "share", $"{day}T10:{i:00}:00+08:00"));
            for (var i = 0; i < 31; i++) events.Add(Event($"r{d}-{i}", m, "read", $"{day}T11:{i:00}:00+08:00"));
        }
        await Accepted([.. events]);
        // A day: sign-in 10, comments 50, shares 25, reads 30 (the 31st over the limit) = 115 experience;
        // coins 10 + 20 + 25 = 55, and streak rewards of days 2..5: 10 + 10 + 20 + 20.
        var (lifetime, _, balance, tier) = await Figures(m);
        Assert.Equal((575L, 5 * 55L + 60L, "l2"), (lifetime, balance, tier));
        Assert.Equal("科长", (await Summary(m)).GetProperty("tier").GetProperty("name").GetString());
        Assert.Equal("tier", (await Check(m, "avatar-frame")).GetProperty("reason").GetString());
    }
}

[Collection(SeedProgramsCollection.Name)]
public sealed class CoffeeProgramTests() : SeedProgramTest("coffee")
{
    private static string Order(string m, string id, decimal amount, int cups, string at)
        => Event(id, m, "order.paid", at, id, amount, $$"""{"cups":{{cups}}}""");

    [Fact]
    public async Task Every_tenth_cup_is_free_and_wednesday_orders_earn_double_points()
    {
        await Start("2026-11-23T12:00:00+08:00");
        var m = NewMember();
        await Accepted(
            Order(m, "c1", 60m, 4, "2026-11-17T09:00:00+08:00"),  // Tuesday
            Order(m, "c2", 45m, 3, "2026-11-18T09:00:00+08:00"),  // Wednesday: x2
            Order(m, "c3", 45m, 3, "2026-11-19T09:00:00+08:00"));
        Assert.Equal((150L, 60L + 90L + 45L), ((await Figures(m)).Lifetime, (await Figures(m)).Balance));
        Assert.Equal(10, (await Summary(m)).GetProperty("counters").GetProperty("stamps").GetInt64());
        Assert.Equal(1, (await Check(m, "free-drink")).GetProperty("remaining").GetInt32());
        Assert.Equal(HttpStatusCode.Created, (await Use(m, "free-drink", "u1")).Status);
        Assert.Equal(0, (await Check(m, "free-drink")).GetProperty("remaining").GetInt32());
        var missing = await Events(Event("c4", m, "order.paid", "2026-11-20T09:00:00+08:00", "c4", 15m));
        Assert.Equal("events[0].attributes.cups", missing.GetProperty("rejected")[0].GetProperty("field").GetString());
    }

    [Fact]
    public async Task The_second_cup_is_half_price_once_every_wednesday_and_an_anniversary_drink_is_for_the_day_one_joined()
    {
        await Start("2025-03-10T15:00:00+08:00");
        var m = NewMember();
        Assert.Equal(HttpStatusCode.Created, (await Http.Post($"{P}/members/{m}", "{}")).Status);

        Clock("2026-03-10T09:00:00+08:00"); // a Tuesday, a year after joining
        Assert.Equal("window", (await Check(m, "second-cup-half")).GetProperty("reason").GetString());
        Assert.True((await Check(m, "anniversary-drink")).GetProperty("entitled").GetBoolean());
        Assert.Equal(HttpStatusCode.Created, (await Use(m, "anniversary-drink", "a1")).Status);

        Clock("2026-03-11T09:00:00+08:00"); // Wednesday
        Assert.Equal("window", (await Check(m, "anniversary-drink")).GetProperty("reason").GetString());
        var half = await Check(m, "second-cup-half");
        Assert.Equal((true, 0.5m, 1), (half.GetProperty("entitled").GetBoolean(), half.GetProperty("value").GetDecimal(), half.GetProperty("remaining").GetInt32()));
        Assert.Equal(HttpStatusCode.Created, (await Use(m, "second-cup-half", "h1")).Status);
        Assert.Equal("quota", (await Use(m, "second-cup-half", "h2")).Body.GetProperty("reason").GetString());
    }
}

[Collection(SeedProgramsCollection.Name)]
public sealed class SamsProgramTests() : SeedProgramTest("sams")
{
    [Fact]
    public async Task A_paid_only_program_takes_no_events_and_prices_its_plans_for_guests()
    {
        await Start("2026-01-10T10:00:00+08:00");
        var m = NewMember();
        var body = await Events(Event("e1", m, "order.paid", "2026-01-10T10:00:00+08:00", "o1", 100m));
        Assert.Equal("events[0].type: unknown event type 'order.paid' (program 'sams' takes no events: it has only plans)", body.GetProperty("rejected")[0].GetProperty("error").GetString());
        var plans = await Plans(m);
        Assert.Equal(("sams", "CNY"), (plans.GetProperty("programId").GetString(), plans.GetProperty("currency").GetString()));
        Assert.Equal([("club", 260m), ("plus", 680m)], plans.GetProperty("plans").EnumerateArray().Select(p => (p.GetProperty("code").GetString(), p.GetProperty("terms")[0].GetProperty("price").GetDecimal())));
        Assert.All(plans.GetProperty("plans").EnumerateArray(), p => Assert.Equal(JsonValueKind.Null, p.GetProperty("subscription").ValueKind));
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Get($"{P}/members/{m}")).Status); // reads never enroll
    }

    [Fact]
    public async Task Plus_members_get_a_renewal_coupon_and_price_in_their_last_30_days()
    {
        await Start("2026-01-10T10:00:00+08:00");
        var m = NewMember();
        await Subscribe(m, "s1", "plus", "purchase", "P1Y"); // until 2027-01-10T10:00+08
        Assert.Equal((true, "plan:plus"), ((await Check(m, "store-entry")).GetProperty("entitled").GetBoolean(), (await Check(m, "store-entry")).GetProperty("sources")[0].GetString()));
        Assert.Equal(8, (await Check(m, "free-delivery")).GetProperty("remaining").GetInt32());
        Assert.Equal(680m, await Price(m, "plus", "P1Y"));
        Assert.Equal("window", (await Check(m, "renewal-coupon")).GetProperty("reason").GetString());

        Clock("2026-12-11T10:00:00+08:00");
        Assert.Equal(580m, await Price(m, "plus", "P1Y"));
        Assert.Equal(260m, await Price(m, "club", "P1Y"));
        Assert.Equal(HttpStatusCode.Created, (await Use(m, "renewal-coupon", "u1")).Status);
        Assert.Equal("quota", (await Use(m, "renewal-coupon", "u2")).Body.GetProperty("reason").GetString());

        var renewed = await Subscribe(m, "s2", "plus", "purchase", "P1Y");
        Assert.Equal(At("2028-01-10T10:00:00+08:00"), Instant(renewed.GetProperty("expiresAt")));
        Assert.Equal(680m, await Price(m, "plus", "P1Y"));
    }
}

[Collection(SeedProgramsCollection.Name)]
public sealed class PlansEndpointTests() : SeedProgramTest("default")
{
    [Fact]
    public async Task Plans_answer_each_term_without_a_price_where_the_program_gives_none_and_the_members_trial_and_subscription()
    {
        await Start("2026-11-23T12:00:00+08:00");
        var m = NewMember();
        var plus = (await Plans(m)).GetProperty("plans").EnumerateArray().Single();
        Assert.Equal(("plus", "PLUS会员", 7, true), (plus.GetProperty("code").GetString(), plus.GetProperty("name").GetString(), plus.GetProperty("trialDays").GetInt32(), plus.GetProperty("trialAvailable").GetBoolean()));
        Assert.Equal([("P1M", JsonValueKind.Null), ("P1Y", JsonValueKind.Null)],
            plus.GetProperty("terms").EnumerateArray().Select(t => (t.GetProperty("term").GetString(), t.GetProperty("price").ValueKind)));

        await Subscribe(m, "s1", "plus", "trial");
        plus = (await Plans(m)).GetProperty("plans")[0];
        Assert.Equal((false, "trial"), (plus.GetProperty("trialAvailable").GetBoolean(), plus.GetProperty("subscription").GetProperty("status").GetString()));

        Assert.Equal(HttpStatusCode.NotFound, (await Http.Get($"/v1/programs/nope/members/{m}/plans")).Status);
        var bad = await Http.Get($"{P}/members/bad%20id/plans");
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.Contains("memberId", bad.Body.GetProperty("errors").EnumerateObject().Select(p => p.Name));
    }
}
