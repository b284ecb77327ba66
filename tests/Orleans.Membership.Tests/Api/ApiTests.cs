using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orleans.Membership.Api.Endpoints;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Api;

[CollectionDefinition(Name)]
public sealed class ClockedNodeCollection : ICollectionFixture<ClockedNodeFixture>
{
    public const string Name = "node with a manual clock";
}

/// <summary>Every endpoint of the contract over real HTTP, with every status it can answer.</summary>
[Collection(ClockedNodeCollection.Name)]
public sealed class ApiTests(ClockedNodeFixture node)
{
    private const string P = "/v1/programs/default";
    private static int s_ids;
    private static string NewId(string prefix) => $"{prefix}{Interlocked.Increment(ref s_ids)}";
    private HttpClient Http => node.Http;

    private async Task<string> MemberWithOrder(decimal amount, string at = "2026-11-01T10:00:00+08:00")
    {
        var m = NewId("m");
        var (status, body) = await Http.Post($"{P}/events",
            $$"""{"eventId":"{{m}}-o1","memberId":"{{m}}","type":"order.paid","occurredAt":"{{at}}","orderId":"o1","amount":{{amount}}}""");
        Assert.Equal((HttpStatusCode.OK, 1), (status, body.GetProperty("accepted").GetInt32()));
        return m;
    }

    [Fact]
    public async Task Healthz_answers_ok()
    {
        var (status, body) = await Http.Get("/healthz");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ok", body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Runtime_diagnostics_report_the_heap_and_the_collections()
    {
        await MemberWithOrder(120m);
        var (status, body) = await Http.Get("/v1/diagnostics/runtime");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body.GetProperty("heapBytes").GetInt64() > 0, body.ToString());
        Assert.True(body.GetProperty("allocatedBytes").GetInt64() >= body.GetProperty("heapBytes").GetInt64(), body.ToString());
        Assert.Equal(3, body.GetProperty("lastGcs").GetArrayLength());
    }

    // ---- programs -------------------------------------------------------------------------------------

    [Fact]
    public async Task Programs_are_read_versioned_and_validated()
    {
        var (status, body) = await Http.Get($"{P}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("default", body.GetProperty("id").GetString());
        Assert.Equal(5, body.GetProperty("tiers").GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Get("/v1/programs/nope")).Status);

        var id = NewId("prog");
        var definition = JsonNode.Parse(body.GetRawText())!.AsObject();
        definition.Remove("id");
        var put = await Http.Send(HttpMethod.Put, $"/v1/programs/{id}", definition.ToJsonString());
        Assert.Equal((HttpStatusCode.OK, 1), (put.Status, put.Body.GetProperty("version").GetInt32()));
        Assert.Equal(1, (await Http.Send(HttpMethod.Put, $"/v1/programs/{id}", definition.ToJsonString())).Body.GetProperty("version").GetInt32());
        // The same numbers spelt otherwise (a JSON library's round trip, an exponent) and properties in another order are no change.
        var respelt = definition.ToJsonString().Replace("\"threshold\":1000,", "\"threshold\":1e3,", StringComparison.Ordinal).Replace("0.90,", "0.9,", StringComparison.Ordinal);
        Assert.NotEqual(definition.ToJsonString(), respelt);
        var reordered = new JsonObject(definition.Reverse().Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
        Assert.Equal(1, (await Http.Send(HttpMethod.Put, $"/v1/programs/{id}", respelt)).Body.GetProperty("version").GetInt32());
        Assert.Equal(1, (await Http.Send(HttpMethod.Put, $"/v1/programs/{id}", reordered.ToJsonString())).Body.GetProperty("version").GetInt32());
        definition["tiers"]![1]!["threshold"] = 800;
        Assert.Equal(2, (await Http.Send(HttpMethod.Put, $"/v1/programs/{id}", definition.ToJsonString())).Body.GetProperty("version").GetInt32());

        // The new program serves at once: 160 x 5 = 800 growth is silver there.
        await Http.Post($"/v1/programs/{id}/events", """{"eventId":"e1","memberId":"u1","type":"order.paid","orderId":"o1","amount":160}""");
        Assert.Equal("silver", (await Http.Get($"/v1/programs/{id}/members/u1")).Body.GetProperty("tier").GetProperty("code").GetString());

        definition["tiers"]![2]!["threshold"] = 10;
        definition["currency"] = "rmb";
        var bad = await Http.Send(HttpMethod.Put, $"/v1/programs/{id}", definition.ToJsonString());
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.Equal("must be greater than tiers[1].threshold (800)", bad.Body.ErrorFor("tiers[2].threshold"));
        Assert.Contains("must be 3 uppercase letters", bad.Body.ErrorFor("currency"));
        Assert.Equal(2, (await Http.Get($"/v1/programs/{id}")).Body.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task Programs_are_listed_by_id_with_their_version_and_name()
    {
        var (a, b) = (NewId("list-b"), NewId("list-a"));
        var definition = JsonNode.Parse((await Http.Get(P)).Body.GetRawText())!.AsObject();
        definition.Remove("id");
        Assert.Equal(HttpStatusCode.OK, (await Http.Send(HttpMethod.Put, $"/v1/programs/{a}", definition.ToJsonString())).Status);
        definition["name"] = "Second";
        Assert.Equal(HttpStatusCode.OK, (await Http.Send(HttpMethod.Put, $"/v1/programs/{b}", definition.ToJsonString())).Status);
        definition["tiers"]![1]!["threshold"] = 900;
        Assert.Equal(HttpStatusCode.OK, (await Http.Send(HttpMethod.Put, $"/v1/programs/{b}", definition.ToJsonString())).Status);

        var (status, body) = await Http.Get("/v1/programs");
        Assert.Equal(HttpStatusCode.OK, status);
        var listed = body.GetProperty("programs").EnumerateArray()
            .Select(p => (Id: p.GetProperty("id").GetString()!, Version: p.GetProperty("version").GetInt32(), Name: p.GetProperty("name").GetString()!)).ToList();
        Assert.Equal(listed.Select(p => p.Id).Order(StringComparer.Ordinal), listed.Select(p => p.Id)); // by id
        Assert.Contains(listed, p => p.Id == "default" && p.Version >= 1); // the shipped ones too
        Assert.Contains((b, 2, "Second"), listed);
        Assert.Contains(listed, p => p.Id == a && p.Version == 1 && p.Name != "Second");
    }

    // ---- members --------------------------------------------------------------------------------------

    [Fact]
    public async Task Enrollment_creates_then_updates_and_validates()
    {
        var m = NewId("m");
        var created = await Http.Post($"{P}/members/{m}", """{"birthday":"03-15"}""");
        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal(m, created.Body.GetProperty("memberId").GetString());
        var again = await Http.Post($"{P}/members/{m}", """{"birthday":"04-01"}""");
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal("04-01", again.Body.GetProperty("birthday").GetString());
        // A member may have its birthday removed: null, not an empty body (which changes nothing).
        Assert.Equal("04-01", (await Http.Post($"{P}/members/{m}", "{}")).Body.GetProperty("birthday").GetString());
        var removed = await Http.Post($"{P}/members/{m}", """{"birthday":null}""");
        Assert.Equal(HttpStatusCode.OK, removed.Status);
        Assert.False(removed.Body.TryGetProperty("birthday", out var left) && left.ValueKind is not JsonValueKind.Null);
        var newest = (await Http.Get($"{P}/members/{m}/ledger?limit=1")).Body.GetProperty("entries")[0];
        Assert.Equal("enroll", newest.GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Null, newest.GetProperty("detail").GetProperty("birthday").ValueKind);

        Assert.Equal("must be a date as MM-DD, e.g. 03-15", (await Http.Post($"{P}/members/{NewId("m")}", """{"birthday":"02-30"}""")).Body.ErrorFor("birthday"));
        Assert.Equal(HttpStatusCode.BadRequest, (await Http.Post($"{P}/members/bad%20id", "{}")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Http.Get($"{P}/members/{new string('x', 129)}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Post($"/v1/programs/nope/members/{m}", "{}")).Status);
        Assert.Equal(HttpStatusCode.Created, (await Http.Send(HttpMethod.Post, $"{P}/members/{NewId("m")}")).Status); // no body at all
    }

    [Fact]
    public async Task The_summary_has_the_contract_shape()
    {
        var m = await MemberWithOrder(1000m);
        var (status, s) = await Http.Get($"{P}/members/{m}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("gold", s.GetProperty("tier").GetProperty("code").GetString());
        Assert.Equal("黄金会员", s.GetProperty("tier").GetProperty("name").GetString());
        Assert.Equal(DateTimeOffset.Parse("2027-11-01T02:00:00+00:00"), s.GetProperty("tier").GetProperty("validUntil").GetDateTimeOffset());
        Assert.Equal(5000, s.GetProperty("growth").GetProperty("lifetime").GetInt64());
        Assert.Equal(5000, s.GetProperty("growth").GetProperty("qualifying").GetInt64());
        Assert.Equal(1000, s.GetProperty("points").GetProperty("balance").GetInt64());
        Assert.Equal(JsonValueKind.Array, s.GetProperty("points").GetProperty("expiringSoon").ValueKind);
        Assert.Equal(JsonValueKind.Null, s.GetProperty("subscription").ValueKind);
        Assert.Equal(DateTimeOffset.Parse("2026-11-01T02:00:00+00:00"), s.GetProperty("lastActivityAt").GetDateTimeOffset());
        Assert.EndsWith("+00:00", s.GetProperty("joinedAt").GetString());
    }

    [Fact]
    public async Task Reads_never_enroll()
    {
        var m = NewId("ghost");
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Get($"{P}/members/{m}")).Status);
        var check = await Http.Get($"{P}/members/{m}/benefits/free-shipping");
        Assert.Equal((HttpStatusCode.OK, false, "tier"), (check.Status, check.Body.GetProperty("entitled").GetBoolean(), check.Body.GetProperty("reason").GetString()));
        Assert.Equal(HttpStatusCode.OK, (await Http.Get($"{P}/members/{m}/benefits")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Get($"{P}/members/{m}/ledger")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Get($"{P}/members/{m}")).Status);
    }

    [Fact]
    public async Task The_ledger_pages_newest_first_and_sums_to_the_balance()
    {
        var m = NewId("m");
        var events = string.Join(",", Enumerable.Range(0, 7).Select(i =>
            $$"""{"eventId":"e{{i}}","memberId":"{{m}}","type":"order.paid","occurredAt":"2026-10-0{{i + 1}}T10:00:00+08:00","orderId":"o{{i}}","amount":{{10 + i}}}"""));
        await Http.Post($"{P}/events", $$"""{"events":[{{events}}]}""");
        await Http.Post($"{P}/members/{m}/points/redemptions", """{"redemptionId":"r1","points":30}""");

        var seqs = new List<long>();
        long points = 0;
        string? before = null;
        do
        {
            var (status, page) = await Http.Get($"{P}/members/{m}/ledger?limit=3{(before is null ? "" : $"&before={before}")}");
            Assert.Equal(HttpStatusCode.OK, status);
            foreach (var e in page.GetProperty("entries").EnumerateArray())
            {
                seqs.Add(e.GetProperty("seq").GetInt64());
                points += e.GetProperty("points").GetInt64();
            }
            before = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetInt64().ToString();
        } while (before is not null);

        Assert.Equal(seqs.OrderDescending(), seqs);
        Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (long)i).OrderDescending(), seqs);
        Assert.Equal((await Http.Get($"{P}/members/{m}")).Body.GetProperty("points").GetProperty("balance").GetInt64(), points);

        Assert.Equal(HttpStatusCode.BadRequest, (await Http.Get($"{P}/members/{m}/ledger?limit=0")).Status);
        Assert.Contains("limit", (await Http.Get($"{P}/members/{m}/ledger?limit=abc")).Body.GetProperty("errors").EnumerateObject().Select(p => p.Name));
        Assert.Contains("before", (await Http.Get($"{P}/members/{m}/ledger?before=0")).Body.GetProperty("errors").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Erasure_forgets_the_member()
    {
        var m = await MemberWithOrder(100m);
        Assert.Equal(HttpStatusCode.NoContent, (await Http.Send(HttpMethod.Delete, $"{P}/members/{m}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Get($"{P}/members/{m}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Get($"{P}/members/{m}/ledger")).Status);
    }

    // ---- benefits -------------------------------------------------------------------------------------

    [Fact]
    public async Task A_guest_uses_a_benefit_its_base_tier_grants_and_the_use_enrolls_it()
    {
        var id = NewId("guests");
        var definition = JsonNode.Parse(TestPrograms.Json("coffee"))!.AsObject();
        definition["benefits"]![1]!.AsObject().Remove("window"); // second-cup-half on any day, once a day, for the base tier
        Assert.Equal(HttpStatusCode.OK, (await Http.Send(HttpMethod.Put, $"/v1/programs/{id}", definition.ToJsonString())).Status);
        var guest = NewId("guest");
        var path = $"/v1/programs/{id}/members/{guest}";
        Assert.True((await Http.Get($"{path}/benefits/second-cup-half")).Body.GetProperty("entitled").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Get(path)).Status);

        var used = await Http.Post($"{path}/benefits/second-cup-half/uses", """{"useId":"u1"}""");
        Assert.Equal((HttpStatusCode.Created, 0), (used.Status, used.Body.GetProperty("remaining").GetInt32()));
        Assert.Equal(HttpStatusCode.OK, (await Http.Get(path)).Status);
        var again = await Http.Post($"{path}/benefits/second-cup-half/uses", """{"useId":"u2"}""");
        Assert.Equal((HttpStatusCode.Conflict, "quota"), (again.Status, again.Body.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task Benefit_checks_and_uses_up_to_the_quota()
    {
        var m = await MemberWithOrder(200m); // silver: 2 free shippings a month
        var all = await Http.Get($"{P}/members/{m}/benefits");
        Assert.Equal(6, all.Body.GetProperty("benefits").GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Get($"{P}/members/{m}/benefits/free-lunch")).Status);

        var check = (await Http.Get($"{P}/members/{m}/benefits/free-shipping")).Body;
        Assert.Equal((true, 2, "tier:silver"), (check.GetProperty("entitled").GetBoolean(), check.GetProperty("remaining").GetInt32(), check.GetProperty("sources")[0].GetString()));
        Assert.Equal(DateTimeOffset.Parse("2026-11-30T16:00:00+00:00"), check.GetProperty("resetsAt").GetDateTimeOffset());

        var first = await Http.Post($"{P}/members/{m}/benefits/free-shipping/uses", """{"useId":"u1","orderId":"o9"}""");
        Assert.Equal((HttpStatusCode.Created, 1), (first.Status, first.Body.GetProperty("remaining").GetInt32()));
        // A check right after a use sees it (the check is answered from the member's published state).
        Assert.Equal(1, (await Http.Get($"{P}/members/{m}/benefits/free-shipping")).Body.GetProperty("remaining").GetInt32());
        var replay = await Http.Post($"{P}/members/{m}/benefits/free-shipping/uses", """{"useId":"u1","orderId":"o9"}""");
        Assert.Equal(first.Body.GetRawText(), replay.Body.GetRawText());
        var reused = await Http.Post($"{P}/members/{m}/benefits/free-shipping/uses", """{"useId":"u1","orderId":"o10"}""");
        Assert.Equal((HttpStatusCode.Conflict, "id-reused"), (reused.Status, reused.Body.GetProperty("reason").GetString()));
        Assert.Equal(HttpStatusCode.Created, (await Http.Post($"{P}/members/{m}/benefits/free-shipping/uses", """{"useId":"u2"}""")).Status);
        var over = await Http.Post($"{P}/members/{m}/benefits/free-shipping/uses", """{"useId":"u3"}""");
        Assert.Equal((HttpStatusCode.Conflict, "quota"), (over.Status, over.Body.GetProperty("reason").GetString()));
        var tier = await Http.Post($"{P}/members/{m}/benefits/priority-service/uses", """{"useId":"u4"}""");
        Assert.Equal((HttpStatusCode.Conflict, "tier"), (tier.Status, tier.Body.GetProperty("reason").GetString()));

        Assert.Equal("is required", (await Http.Post($"{P}/members/{m}/benefits/free-shipping/uses", "{}")).Body.ErrorFor("useId"));
        Assert.Equal(HttpStatusCode.BadRequest, (await Http.Post($"{P}/members/{m}/benefits/free-shipping/uses", "{not json")).Status);
        // A guest's use is checked as its benefit check is: the default program's base tier has no free shipping.
        var ghostId = NewId("ghost");
        var ghost = await Http.Post($"{P}/members/{ghostId}/benefits/free-shipping/uses", """{"useId":"u1"}""");
        Assert.Equal((HttpStatusCode.Conflict, "tier"), (ghost.Status, ghost.Body.GetProperty("reason").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Get($"{P}/members/{ghostId}")).Status); // refused: not enrolled
        var redeemer = await Http.Post($"{P}/members/{NewId("ghost")}/points/redemptions", """{"redemptionId":"r1","points":1}""");
        Assert.Equal((HttpStatusCode.NotFound, "the member is not enrolled in program 'default': only a member redeems points"), (redeemer.Status, redeemer.Body.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task A_check_answered_from_published_facts_follows_the_end_of_the_tier_and_program_changes()
    {
        // Silver from 2026-11-01 until 2027-11-01; checks are answered from the facts the member published.
        var m = await MemberWithOrder(200m);
        var check = (await Http.Get($"{P}/members/{m}/benefits/free-shipping")).Body;
        Assert.Equal((true, "tier:silver"), (check.GetProperty("entitled").GetBoolean(), check.GetProperty("sources")[0].GetString()));

        var now = node.Clock.Now;
        try
        {
            // The validity ended and the order left the 12-month window: no write happened, the member is re-graded.
            node.Clock.Now = MemberHarness.At("2027-11-02T12:00:00+08:00");
            check = (await Http.Get($"{P}/members/{m}/benefits/free-shipping")).Body;
            Assert.Equal((false, "tier"), (check.GetProperty("entitled").GetBoolean(), check.GetProperty("reason").GetString()));
        }
        finally
        {
            node.Clock.Now = now;
        }
        check = (await Http.Get($"{P}/members/{m}/benefits/free-shipping")).Body;
        Assert.True(check.GetProperty("entitled").GetBoolean());

        // A program version that raises silver's threshold serves at once, for members already active too.
        var id = NewId("prog");
        var definition = JsonNode.Parse((await Http.Get(P)).Body.GetRawText())!.AsObject();
        definition.Remove("id");
        Assert.Equal(HttpStatusCode.OK, (await Http.Send(HttpMethod.Put, $"/v1/programs/{id}", definition.ToJsonString())).Status);
        var (status, body) = await Http.Post($"/v1/programs/{id}/events",
            $$"""{"eventId":"{{m}}-o1","memberId":"{{m}}","type":"order.paid","occurredAt":"2026-11-01T10:00:00+08:00","orderId":"o1","amount":200}""");
        Assert.Equal((HttpStatusCode.OK, 1), (status, body.GetProperty("accepted").GetInt32()));
        Assert.Equal(2, (await Http.Get($"/v1/programs/{id}/members/{m}/benefits/free-shipping")).Body.GetProperty("remaining").GetInt32());
        definition["tiers"]![1]!["threshold"] = 2000;
        Assert.Equal(2, (await Http.Send(HttpMethod.Put, $"/v1/programs/{id}", definition.ToJsonString())).Body.GetProperty("version").GetInt32());
        check = (await Http.Get($"/v1/programs/{id}/members/{m}/benefits/free-shipping")).Body;
        Assert.Equal((false, "tier"), (check.GetProperty("entitled").GetBoolean(), check.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task A_retried_event_is_a_duplicate_after_the_program_dropped_its_type()
    {
        var (m, stranger) = (NewId("m"), NewId("m"));
        var id = NewId("prog");
        var definition = JsonNode.Parse((await Http.Get(P)).Body.GetRawText())!.AsObject();
        definition.Remove("id");
        Assert.Equal(HttpStatusCode.OK, (await Http.Send(HttpMethod.Put, $"/v1/programs/{id}", definition.ToJsonString())).Status);
        var review = $$"""{"events":[{"eventId":"{{m}}-rv","memberId":"{{m}}","type":"review"}]}""";
        Assert.Equal(1, (await Http.Post($"/v1/programs/{id}/events", review)).Body.GetProperty("accepted").GetInt32());

        var types = definition["eventTypes"]!.AsArray();
        types.Remove(types.Single(t => (string?)t!["type"] == "review"));
        Assert.Equal(2, (await Http.Send(HttpMethod.Put, $"/v1/programs/{id}", definition.ToJsonString())).Body.GetProperty("version").GetInt32());

        var retry = (await Http.Post($"/v1/programs/{id}/events", review)).Body;
        Assert.Equal((0, 1, 0), (retry.GetProperty("accepted").GetInt32(), retry.GetProperty("duplicates").GetInt32(), retry.GetProperty("rejected").GetArrayLength()));
        // A new event of the dropped type is refused as before, and enrolls nobody.
        var fresh = (await Http.Post($"/v1/programs/{id}/events", $$"""{"events":[{"eventId":"{{stranger}}-rv","memberId":"{{stranger}}","type":"review"}]}""")).Body;
        Assert.StartsWith("events[0].type: unknown event type 'review'", fresh.GetProperty("rejected")[0].GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Get($"/v1/programs/{id}/members/{stranger}")).Status);
    }

    // ---- redemptions ----------------------------------------------------------------------------------

    [Fact]
    public async Task Redemptions_consume_all_or_nothing_and_replay()
    {
        var m = await MemberWithOrder(100m);
        var ok = await Http.Post($"{P}/members/{m}/points/redemptions", """{"redemptionId":"r1","points":60,"reason":"coupon-10"}""");
        Assert.Equal((HttpStatusCode.Created, 40), (ok.Status, ok.Body.GetProperty("balance").GetInt64()));
        var consumed = ok.Body.GetProperty("consumed")[0];
        Assert.Equal((60, DateTimeOffset.Parse("2027-12-31T16:00:00+00:00")), (consumed.GetProperty("points").GetInt64(), consumed.GetProperty("expiresAt").GetDateTimeOffset()));

        var shortOf = await Http.Post($"{P}/members/{m}/points/redemptions", """{"redemptionId":"r2","points":41}""");
        Assert.Equal((HttpStatusCode.Conflict, "balance"), (shortOf.Status, shortOf.Body.GetProperty("reason").GetString()));
        Assert.Equal(40, (await Http.Get($"{P}/members/{m}")).Body.GetProperty("points").GetProperty("balance").GetInt64());
        Assert.Equal(ok.Body.GetRawText(), (await Http.Post($"{P}/members/{m}/points/redemptions", """{"redemptionId":"r1","points":60,"reason":"coupon-10"}""")).Body.GetRawText());
        // The same number written as a serializer of doubles writes it: the same request.
        Assert.Equal(ok.Body.GetRawText(), (await Http.Post($"{P}/members/{m}/points/redemptions", """{"redemptionId":"r1","points":60.0,"reason":"coupon-10"}""")).Body.GetRawText());
        var whole = await Http.Post($"{P}/members/{m}/points/redemptions", """{"redemptionId":"r3","points":1e1}""");
        Assert.Equal((HttpStatusCode.Created, 30), (whole.Status, whole.Body.GetProperty("balance").GetInt64()));

        foreach (var points in new[] { "0", "\"ten\"", "1.5", "-3", "2.000001", "1e30" })
        {
            var bad = await Http.Post($"{P}/members/{m}/points/redemptions", $$"""{"redemptionId":"r9","points":{{points}}}""");
            Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
            Assert.Contains("points", bad.Body.GetProperty("errors").EnumerateObject().Select(p => p.Name));
        }
    }

    // ---- subscription ---------------------------------------------------------------------------------

    [Fact]
    public async Task Subscription_trial_purchase_cancel_and_errors()
    {
        var m = NewId("m");
        await Http.Post($"{P}/members/{m}", "{}");
        var trial = await Http.Post($"{P}/members/{m}/subscription", """{"subscriptionEventId":"s1","plan":"plus","action":"trial","at":"2026-11-20T00:00:00+08:00"}""");
        Assert.Equal((HttpStatusCode.OK, "trial"), (trial.Status, trial.Body.GetProperty("status").GetString()));
        Assert.Equal(DateTimeOffset.Parse("2026-11-26T16:00:00+00:00"), trial.Body.GetProperty("expiresAt").GetDateTimeOffset());
        var second = await Http.Post($"{P}/members/{m}/subscription", """{"subscriptionEventId":"s2","plan":"plus","action":"trial"}""");
        Assert.Equal((HttpStatusCode.Conflict, "trial-used"), (second.Status, second.Body.GetProperty("reason").GetString()));
        var bought = await Http.Post($"{P}/members/{m}/subscription", """{"subscriptionEventId":"s3","plan":"plus","action":"purchase","term":"P1M"}""");
        Assert.Equal(("active", DateTimeOffset.Parse("2026-12-26T16:00:00+00:00")), (bought.Body.GetProperty("status").GetString(), bought.Body.GetProperty("expiresAt").GetDateTimeOffset()));
        var cancelled = await Http.Post($"{P}/members/{m}/subscription", """{"subscriptionEventId":"s4","plan":"plus","action":"cancel"}""");
        Assert.Equal(("active", false), (cancelled.Body.GetProperty("status").GetString(), cancelled.Body.GetProperty("autoRenew").GetBoolean()));
        Assert.Equal("plus", (await Http.Get($"{P}/members/{m}")).Body.GetProperty("subscription").GetProperty("plan").GetString());

        Assert.Contains("term", (await Http.Post($"{P}/members/{m}/subscription", """{"subscriptionEventId":"s5","plan":"plus","action":"purchase","term":"P2W"}""")).Body.GetProperty("errors").EnumerateObject().Select(p => p.Name));
        Assert.Contains("plan", (await Http.Post($"{P}/members/{m}/subscription", """{"subscriptionEventId":"s6","plan":"gold-card","action":"trial"}""")).Body.GetProperty("errors").EnumerateObject().Select(p => p.Name));
        Assert.Contains("at", (await Http.Post($"{P}/members/{m}/subscription", """{"subscriptionEventId":"s7","plan":"plus","action":"trial","at":"2026-11-20T00:00:00"}""")).Body.GetProperty("errors").EnumerateObject().Select(p => p.Name));
    }

    // ---- events ---------------------------------------------------------------------------------------

    [Fact]
    public async Task A_batch_rejects_bad_events_by_field_and_applies_the_rest()
    {
        var m = NewId("m");
        var batch = $$"""
        {"events":[
          {"eventId":"ok-1","memberId":"{{m}}","type":"order.paid","occurredAt":"2026-11-01T10:00:00+08:00","orderId":"o1","amount":100.00},
          {"eventId":"b-1","memberId":"{{m}}","type":"order.paid","orderId":"o2","amount":1.001},
          {"eventId":"b-2","memberId":"{{m}}","type":"order.paid","orderId":"o3","amount":"12"},
          {"eventId":"b-3","memberId":"{{m}}","type":"order.paid","orderId":"o4","amount":-5},
          {"eventId":"b-4","memberId":"{{m}}","type":"teleport"},
          {"eventId":"bad id","memberId":"{{m}}","type":"sign-in"},
          {"eventId":"b-6","type":"sign-in"},
          {"eventId":"b-7","memberId":"{{m}}","type":"sign-in","occurredAt":"2026-11-11T00:00:05"},
          {"eventId":"b-8","memberId":"{{m}}","type":"sign-in","occurredAt":"2026-11-23T12:10:00+08:00"},
          {"eventId":"b-9","memberId":"{{m}}","type":"order.refunded","orderId":"o1","amount":100.01},
          {"eventId":"b-10","memberId":"{{m}}","type":"order.refunded","orderId":"never","amount":1},
          {"eventId":"b-11","memberId":"{{m}}","type":"order.paid","orderId":"o1","amount":5},
          {"eventId":"ok-1","memberId":"{{m}}","type":"order.paid","orderId":"o1","amount":99},
          {"eventId":"ok-2","memberId":"{{m}}","type":"sign-in","occurredAt":"2026-11-22T10:00:00+08:00"}
        ]}
        """;
        var (status, body) = await Http.Post($"{P}/events", batch);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal((2, 0), (body.GetProperty("accepted").GetInt32(), body.GetProperty("duplicates").GetInt32()));
        var fields = body.GetProperty("rejected").EnumerateArray().ToDictionary(r => r.GetProperty("index").GetInt32(), r => r.GetProperty("field").GetString());
        Assert.Equal(new Dictionary<int, string?>
        {
            [1] = "events[1].amount", [2] = "events[2].amount", [3] = "events[3].amount", [4] = "events[4].type",
            [5] = "events[5].eventId", [6] = "events[6].memberId", [7] = "events[7].occurredAt", [8] = "events[8].occurredAt",
            [9] = "events[9].amount", [10] = "events[10].orderId", [11] = "events[11].orderId", [12] = "events[12].eventId",
        }, fields);
        var reused = body.GetProperty("rejected").EnumerateArray().Single(r => r.GetProperty("index").GetInt32() == 12);
        Assert.Equal("id-reused", reused.GetProperty("reason").GetString());

        var summary = (await Http.Get($"{P}/members/{m}")).Body;
        Assert.Equal(510, summary.GetProperty("growth").GetProperty("lifetime").GetInt64());

        // The same batch again: the accepted ones are duplicates, nothing changes.
        var again = (await Http.Post($"{P}/events", batch)).Body;
        Assert.Equal((0, 2), (again.GetProperty("accepted").GetInt32(), again.GetProperty("duplicates").GetInt32()));
        Assert.Equal(summary.GetRawText(), (await Http.Get($"{P}/members/{m}")).Body.GetRawText());
    }

    [Fact]
    public async Task A_batch_over_several_members_keeps_each_members_order_and_reports_by_batch_index()
    {
        var (a, b, c) = (NewId("m"), NewId("m"), NewId("m"));
        var batch = $$"""
        {"events":[
          {"eventId":"x-1","memberId":"{{a}}","type":"order.paid","orderId":"o1","amount":100.00},
          {"eventId":"x-2","memberId":"{{b}}","type":"order.paid","orderId":"o1","amount":40.00},
          {"eventId":"x-3","memberId":"{{a}}","type":"order.refunded","orderId":"o1","amount":30.00},
          {"eventId":"x-4","memberId":"{{c}}","type":"order.refunded","orderId":"o9","amount":1},
          {"eventId":"x-5","memberId":"{{b}}","type":"teleport"},
          {"eventId":"x-2","memberId":"{{b}}","type":"order.paid","orderId":"o1","amount":40.00},
          {"eventId":"x-1","memberId":"{{a}}","type":"order.paid","orderId":"o1","amount":99.00},
          {"eventId":"x-6","memberId":"{{c}}","type":"sign-in"}
        ]}
        """;
        var (status, body) = await Http.Post($"{P}/events", batch);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal((4, 1), (body.GetProperty("accepted").GetInt32(), body.GetProperty("duplicates").GetInt32()));
        var rejected = body.GetProperty("rejected").EnumerateArray()
            .Select(r => (r.GetProperty("index").GetInt32(), r.GetProperty("eventId").GetString(), r.GetProperty("field").GetString())).ToList();
        Assert.Equal([(3, "x-4", "events[3].orderId"), (4, "x-5", "events[4].type"), (6, "x-1", "events[6].eventId")], rejected);
        // a's refund came after its order in the batch, so it applied to it: 5 x (100 - 30) growth.
        Assert.Equal(350, (await Http.Get($"{P}/members/{a}")).Body.GetProperty("growth").GetProperty("lifetime").GetInt64());
        Assert.Equal(200, (await Http.Get($"{P}/members/{b}")).Body.GetProperty("growth").GetProperty("lifetime").GetInt64());
        Assert.Equal(10, (await Http.Get($"{P}/members/{c}")).Body.GetProperty("growth").GetProperty("lifetime").GetInt64());
    }

    [Fact]
    public async Task A_batch_over_more_members_than_are_called_at_once_applies_every_event_and_reports_by_batch_index()
    {
        var members = Enumerable.Range(0, EventsApi.CallsAtOnce * 2 + 22).Select(_ => NewId("m")).ToList();
        var events = members.Select((m, i) => i == 100
            ? $$"""{"eventId":"w-{{i}}","memberId":"{{m}}","type":"order.refunded","orderId":"none","amount":1}"""
            : $$"""{"eventId":"w-{{i}}","memberId":"{{m}}","type":"order.paid","orderId":"o{{i}}","amount":{{i + 1}}}""");
        var (status, body) = await Http.Post($"{P}/events", $$"""{"events":[{{string.Join(",", events)}}]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(members.Count - 1, body.GetProperty("accepted").GetInt32());
        var rejected = Assert.Single(body.GetProperty("rejected").EnumerateArray());
        Assert.Equal((100, "w-100", "events[100].orderId"), (rejected.GetProperty("index").GetInt32(), rejected.GetProperty("eventId").GetString(), rejected.GetProperty("field").GetString()));
        foreach (var i in new[] { 0, EventsApi.CallsAtOnce - 1, EventsApi.CallsAtOnce, members.Count - 1 })
        {
            Assert.Equal(5 * (i + 1), (await Http.Get($"{P}/members/{members[i]}")).Body.GetProperty("growth").GetProperty("lifetime").GetInt64());
        }
    }

    [Theory]
    [InlineData("{\"events\":[{")]
    [InlineData("{\"events\":5}")]
    [InlineData("[1,2]")]
    [InlineData("{\"events\":[],\"extra\":1}")]
    public async Task A_malformed_body_is_400_and_applies_nothing(string body)
    {
        var (status, problem) = await Http.Post($"{P}/events", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(JsonValueKind.Object, problem.GetProperty("errors").ValueKind);
    }

    [Fact]
    public async Task A_batch_over_1000_events_is_refused_whole()
    {
        var m = NewId("m");
        var events = string.Join(",", Enumerable.Range(0, 1001).Select(i => $$"""{"eventId":"e{{i}}","memberId":"{{m}}","type":"share"}"""));
        var (status, problem) = await Http.Post($"{P}/events", $$"""{"events":[{{events}}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("must hold at most 1000 events", problem.ErrorFor("events"));
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Get($"{P}/members/{m}")).Status);
    }

    [Fact]
    public async Task A_single_event_body_works_like_a_batch_of_one()
    {
        var m = NewId("m");
        var (status, body) = await Http.Post($"{P}/events", $$"""{"eventId":"s","memberId":"{{m}}","type":"sign-in"}""");
        Assert.Equal((HttpStatusCode.OK, 1), (status, body.GetProperty("accepted").GetInt32()));
        var bad = (await Http.Post($"{P}/events", $$"""{"eventId":"t","memberId":"{{m}}","type":"order.paid","orderId":"o","amount":0}""")).Body;
        Assert.Equal("amount", bad.GetProperty("rejected")[0].GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Post("/v1/programs/nope/events", "{}")).Status);
    }

    [Fact]
    public async Task A_retried_event_is_a_duplicate_whatever_order_its_serializer_gave_the_attributes()
    {
        var m = NewId("m");
        string Paid(string id, string attributes) => $$"""{"eventId":"{{id}}","memberId":"{{m}}","type":"order.paid","orderId":"o-{{id}}","amount":100{{attributes}}}""";
        Assert.Equal(1, (await Http.Post($"{P}/events", Paid("p1", ""","attributes":{"store":"s1","channel":"caf\u00e9"}"""))).Body.GetProperty("accepted").GetInt32());
        Assert.Equal(1, (await Http.Post($"{P}/events", Paid("p2", ""","attributes":{}"""))).Body.GetProperty("accepted").GetInt32());
        var before = (await Http.Get($"{P}/members/{m}/ledger")).Body.GetRawText();

        var (_, retried) = await Http.Post($"{P}/events", $$"""{"events":[{{Paid("p1", ""","attributes":{"channel":"café","store":"s1"}""")}},{{Paid("p2", "")}}]}""");
        Assert.Equal((2, 0), (retried.GetProperty("duplicates").GetInt32(), retried.GetProperty("accepted").GetInt32()));
        var (status, problem) = await Http.Post($"{P}/events", Paid("p1", ""","attributes":{"channel":"café","store":"s2"}"""));
        Assert.Equal((HttpStatusCode.Conflict, "id-reused"), (status, problem.GetProperty("reason").GetString()));
        Assert.Equal(before, (await Http.Get($"{P}/members/{m}/ledger")).Body.GetRawText());
    }

    [Fact]
    public async Task An_event_sent_alone_whose_id_was_used_with_another_body_is_409_and_in_a_batch_is_rejected()
    {
        var m = NewId("m");
        var paid = $$"""{"eventId":"p1","memberId":"{{m}}","type":"order.paid","orderId":"o1","amount":100,"occurredAt":"2026-11-20T10:00:00+08:00"}""";
        Assert.Equal(1, (await Http.Post($"{P}/events", paid)).Body.GetProperty("accepted").GetInt32());
        var before = (await Http.Get($"{P}/members/{m}/ledger")).Body.GetRawText();

        var (status, problem) = await Http.Post($"{P}/events", paid.Replace("\"amount\":100", "\"amount\":900"));
        Assert.Equal((HttpStatusCode.Conflict, "id-reused"), (status, problem.GetProperty("reason").GetString()));
        Assert.Contains("eventId", problem.GetProperty("detail").GetString());
        var (batchStatus, batch) = await Http.Post($"{P}/events", $$"""{"events":[{{paid.Replace("\"amount\":100", "\"amount\":900")}}]}""");
        Assert.Equal((HttpStatusCode.OK, "id-reused"), (batchStatus, batch.GetProperty("rejected")[0].GetProperty("reason").GetString()));
        // The same body again is still a duplicate, and nothing of the refused ones applied.
        Assert.Equal(1, (await Http.Post($"{P}/events", paid)).Body.GetProperty("duplicates").GetInt32());
        Assert.Equal(before, (await Http.Get($"{P}/members/{m}/ledger")).Body.GetRawText());
    }

    [Fact]
    public async Task The_coffee_club_grants_a_free_drink_per_ten_stamps()
    {
        var m = NewId("c");
        var events = string.Join(",", Enumerable.Range(0, 10).Select(i =>
            $$"""{"eventId":"c{{i}}","memberId":"{{m}}","type":"order.paid","occurredAt":"2026-11-{{10 + i}}T09:00:00+08:00","orderId":"c{{i}}","amount":32}"""));
        Assert.Equal(10, (await Http.Post("/v1/programs/coffee-club/events", $$"""{"events":[{{events}}]}""")).Body.GetProperty("accepted").GetInt32());
        Assert.Equal(1, (await Http.Get($"/v1/programs/coffee-club/members/{m}/benefits/free-drink")).Body.GetProperty("remaining").GetInt32());
        Assert.Equal(HttpStatusCode.Created, (await Http.Post($"/v1/programs/coffee-club/members/{m}/benefits/free-drink/uses", """{"useId":"d1"}""")).Status);
        var again = await Http.Post($"/v1/programs/coffee-club/members/{m}/benefits/free-drink/uses", """{"useId":"d2"}""");
        Assert.Equal((HttpStatusCode.Conflict, "quota"), (again.Status, again.Body.GetProperty("reason").GetString()));
    }
}

[CollectionDefinition(Name)]
public sealed class KeyedNodeCollection : ICollectionFixture<KeyedNodeFixture>
{
    public const string Name = "node with API keys";
}

/// <summary>X-Api-Key roles: 401 without a valid key, 403 without the role, admin may do everything.</summary>
[Collection(KeyedNodeCollection.Name)]
public sealed class ApiKeyTests(KeyedNodeFixture node)
{
    private const string P = "/v1/programs/default";

    public static TheoryData<string, string, string?, string?, HttpStatusCode> Cases => new()
    {
        // method, path, body, key, expected
        { "GET", "/healthz", null, null, HttpStatusCode.OK },
        { "GET", $"{P}/members/k1", null, null, HttpStatusCode.Unauthorized },
        { "GET", $"{P}/members/k1", null, "wrong", HttpStatusCode.Unauthorized },
        { "GET", $"{P}/members/k1/benefits/free-shipping", null, "k-checkout", HttpStatusCode.OK },
        { "GET", $"{P}/members/k1/benefits/free-shipping", null, "k-ingest", HttpStatusCode.Forbidden },
        { "POST", $"{P}/events", """{"eventId":"e","memberId":"k1","type":"sign-in"}""", "k-checkout", HttpStatusCode.Forbidden },
        { "POST", $"{P}/events", """{"eventId":"e","memberId":"k1","type":"sign-in"}""", "k-ingest", HttpStatusCode.OK },
        { "POST", $"{P}/events", """{"eventId":"e2","memberId":"k1","type":"sign-in"}""", "k-admin", HttpStatusCode.OK },
        { "GET", P, null, "k-checkout", HttpStatusCode.Forbidden },
        { "GET", P, null, "k-admin", HttpStatusCode.OK },
        { "POST", $"{P}/members/k2/subscription", """{"subscriptionEventId":"s","plan":"plus","action":"trial"}""", "k-checkout", HttpStatusCode.Forbidden },
        { "POST", $"{P}/members/k2/subscription", """{"subscriptionEventId":"s","plan":"plus","action":"trial"}""", "k-admin", HttpStatusCode.OK },
        { "DELETE", $"{P}/members/k3", null, "k-checkout", HttpStatusCode.Forbidden },
        { "DELETE", $"{P}/members/k3", null, "k-admin", HttpStatusCode.NoContent },
        { "POST", $"{P}/members/k4/points/redemptions", """{"redemptionId":"r","points":1}""", "k-ingest", HttpStatusCode.Forbidden },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Keys_and_roles_guard_every_endpoint(string method, string path, string? body, string? key, HttpStatusCode expected)
    {
        var (status, _) = await node.Http.Send(new HttpMethod(method), path, body, key);
        Assert.Equal(expected, status);
    }

    [Fact]
    public async Task The_key_is_checked_before_the_body()
    {
        // A caller without the role learns nothing about what the endpoint would make of its body.
        var body = """{"eventId":"e","memberId":"k1","type":"sign-in"}""";
        Assert.Equal(HttpStatusCode.Unauthorized, (await node.Http.SendRaw(HttpMethod.Post, $"{P}/events", Support.Http.Body(body, "text/plain"))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await node.Http.SendRaw(HttpMethod.Post, $"{P}/events", Support.Http.Body(body, "text/plain"), "k-checkout")).Status);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await node.Http.SendRaw(HttpMethod.Post, $"{P}/events", Support.Http.Body(body, "text/plain"), "k-ingest")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await node.Http.SendRaw(HttpMethod.Post, $"{P}/members/k5", Support.Http.Body("{", "text/plain"), "k-checkout")).Status);
    }

    [Theory]
    [InlineData("wrong", "k-checkout")]
    [InlineData("k-checkout", "wrong")]
    [InlineData("k-checkout", "k-checkout")]
    public async Task Two_api_key_headers_are_401_naming_the_header_whatever_the_order(string first, string second)
    {
        // HttpClient joins repeated values into one line: two header lines need a request written by hand.
        var answer = await Support.Http.RawRequest(node.BaseAddress,
            $"GET {P}/members/k1/benefits/free-shipping HTTP/1.1\r\nHost: localhost\r\nX-Api-Key: {first}\r\nX-Api-Key: {second}\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 401 ", answer);
        Assert.Contains("Content-Type: application/problem+json", answer, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("send one X-Api-Key header", answer);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong")]
    public async Task A_401_names_the_api_key_scheme_in_WWW_Authenticate(string? key)
    {
        var (status, _, headers) = await node.Http.SendRaw(HttpMethod.Get, $"{P}/members/k1", null, key);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("ApiKey header=\"X-Api-Key\"", headers.WwwAuthenticate.ToString());
        var (forbidden, _, forbiddenHeaders) = await node.Http.SendRaw(HttpMethod.Get, P, null, "k-checkout");
        Assert.Equal((HttpStatusCode.Forbidden, 0), (forbidden, forbiddenHeaders.WwwAuthenticate.Count));
    }
}
