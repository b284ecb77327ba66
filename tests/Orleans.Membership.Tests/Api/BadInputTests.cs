using System.Net;
using System.Text.Json;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Api;

/// <summary>
/// Input an attacker or a careless client sends: every bad id, instant or body is refused with the field
/// named, and nothing of it is applied.
/// </summary>
[Collection(ClockedNodeCollection.Name)]
public sealed class BadInputTests(ClockedNodeFixture node)
{
    private const string P = "/v1/programs/default";
    private static int s_ids;
    private static string NewId(string prefix) => $"{prefix}{Interlocked.Increment(ref s_ids)}";
    private HttpClient Http => node.Http;

    private async Task<string> MemberWithPoints()
    {
        var m = NewId("bad-m");
        var (status, body) = await Http.Post($"{P}/events",
            $$"""{"eventId":"{{m}}-o1","memberId":"{{m}}","type":"order.paid","occurredAt":"2026-11-01T10:00:00+08:00","orderId":"o1","amount":500}""");
        Assert.Equal((HttpStatusCode.OK, 1), (status, body.GetProperty("accepted").GetInt32()));
        return m;
    }

    private async Task<long> LedgerRows(string member)
        => (await Http.Get($"{P}/members/{member}/ledger?limit=1000")).Body.GetProperty("entries").GetArrayLength();

    // ---- ids and instants -----------------------------------------------------------------------------

    [Theory]
    [InlineData("a\n")]
    [InlineData("a\r\n")]
    [InlineData("a ")]
    [InlineData(" a")]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("é")]
    public void The_id_rule_refuses_anything_but_the_contracts_characters(string id)
    {
        Assert.False(CallerIds.IsValid(id));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("...")]
    [InlineData(".a")]
    [InlineData("a.")]
    [InlineData("u:1_2-3.x")]
    public void The_id_rule_takes_every_id_of_the_contracts_characters(string id)
    {
        Assert.True(CallerIds.IsValid(id));
        Assert.True(CallerIds.IsValid(new string('x', 128)));
        Assert.False(CallerIds.IsValid(new string('x', 129)));
    }

    [Theory]
    [InlineData("x%0A")]
    [InlineData("x%0D%0A")]
    [InlineData("x%20")]
    [InlineData("%20x")]
    [InlineData("x%09")]
    public async Task A_member_id_in_the_path_with_a_control_character_or_space_is_400_and_creates_nothing(string encoded)
    {
        var (status, problem) = await Http.Post($"{P}/members/{encoded}", "{}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(CallerIds.Rule, problem.ErrorFor("memberId"));
        Assert.Equal(HttpStatusCode.BadRequest, (await Http.Get($"{P}/members/{encoded}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Get($"{P}/members/x")).Status);
    }

    [Theory]
    [InlineData("%2E")]
    [InlineData("%2E%2E")]
    [InlineData("%2e%2E")]
    public async Task A_member_id_of_dots_in_the_path_never_reaches_a_member(string encoded)
    {
        // The server may resolve the dots away before routing (then no member route matches), or route them
        // as the id; either way nothing is enrolled and the answer is not a success.
        var (status, _) = await Http.Post($"{P}/members/{encoded}", "{}");
        Assert.False((int)status is >= 200 and < 300, $"enrolling '{encoded}' answered {status}");
    }

    [Theory]
    [InlineData("GET", "/members/..")]
    [InlineData("GET", "/members/./ledger")]
    [InlineData("DELETE", "/members/%2E%2e")]
    [InlineData("POST", "/members/../events")]
    [InlineData("GET", "/members/../benefits/free-shipping?x=1")]
    public async Task A_path_with_a_dot_segment_is_refused_as_sent_not_routed_to_the_resource_it_would_resolve_to(string method, string path)
    {
        // Sent as written: HttpClient would resolve the dots itself, as Kestrel does before routing.
        var uri = new Uri(node.BaseAddress + P.TrimStart('/') + path, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(new HttpMethod(method), uri) { Content = method == "GET" ? null : new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("is not an id", problem.RootElement.GetProperty("errors").GetProperty("path")[0].GetString());
    }

    [Fact]
    public void Dots_inside_an_id_or_a_query_are_not_dot_segments()
    {
        Assert.Null(Orleans.Membership.Api.Http.DotSegments.Find("/v1/programs/default/members/u.1/benefits/a.b?at=..&x=."));
        Assert.Null(Orleans.Membership.Api.Http.DotSegments.Find("/v1/programs/default/members/.../ledger"));
        Assert.Equal("..", Orleans.Membership.Api.Http.DotSegments.Find("/v1/programs/default/members/.."));
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("m\n")]
    public async Task An_event_for_a_member_id_of_dots_or_a_trailing_newline_is_rejected_by_field(string memberId)
    {
        var events = JsonSerializer.Serialize(new[]
        {
            new { eventId = NewId("e"), memberId, type = "sign-in" },
        });
        var (status, body) = await Http.Post($"{P}/events", $$"""{"events":{{events}}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, body.GetProperty("accepted").GetInt32());
        Assert.Equal("events[0].memberId", body.GetProperty("rejected")[0].GetProperty("field").GetString());
    }

    [Fact]
    public async Task An_event_with_several_bad_fields_is_rejected_naming_every_one_at_once()
    {
        var id = NewId("e");
        var (status, body) = await Http.Post($"{P}/events",
            $$"""{"events":[{"eventId":"{{id}}","type":"order.paid","orderId":"o1","amount":"12","colour":"red"}]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, body.GetProperty("accepted").GetInt32());
        var rejected = body.GetProperty("rejected")[0];
        var errors = rejected.GetProperty("errors").EnumerateObject().Select(e => e.Name).Order().ToArray();
        Assert.Equal(["events[0].amount", "events[0].colour", "events[0].memberId"], errors);
        Assert.Equal(id, rejected.GetProperty("eventId").GetString());
        foreach (var field in errors) Assert.Contains(field + ": ", rejected.GetProperty("error").GetString());
        Assert.Contains(rejected.GetProperty("field").GetString(), errors);
    }

    [Fact]
    public async Task An_event_the_member_refuses_lists_its_one_field_with_its_reason()
    {
        var m = await MemberWithPoints();
        var (_, body) = await Http.Post($"{P}/events",
            $$"""{"events":[{"eventId":"{{NewId("e")}}","memberId":"{{m}}","type":"order.paid","orderId":"o1","amount":10}]}""");
        var rejected = body.GetProperty("rejected")[0];
        Assert.Equal("order-paid", rejected.GetProperty("reason").GetString());
        Assert.Equal("events[0].orderId", rejected.GetProperty("field").GetString());
        Assert.Equal("events[0].orderId", rejected.GetProperty("errors").EnumerateObject().Single().Name);
    }

    public static TheoryData<string, string> EventFieldsWithANewline => new()
    {
        { "eventId", """{"eventId":"e-1\n","memberId":"{m}","type":"order.paid","orderId":"o2","amount":10}""" },
        { "orderId", """{"eventId":"e-2","memberId":"{m}","type":"order.paid","orderId":"o2\n","amount":10}""" },
        { "orderId", """{"eventId":"e-3","memberId":"{m}","type":"sign-in","orderId":"o2\n"}""" },
        { "occurredAt", """{"eventId":"e-4","memberId":"{m}","type":"sign-in","occurredAt":"2026-11-01T10:00:00+08:00\n"}""" },
        { "occurredAt", """{"eventId":"e-5","memberId":"{m}","type":"sign-in","occurredAt":"2026-11-01T10:00:00+08:00 "}""" },
        { "occurredAt", """{"eventId":"e-6","memberId":"{m}","type":"sign-in","occurredAt":" 2026-11-01T10:00:00+08:00"}""" },
        { "occurredAt", """{"eventId":"e-7","memberId":"{m}","type":"sign-in","occurredAt":"2026-11-01 10:00:00+08:00"}""" },
        { "occurredAt", """{"eventId":"e-8","memberId":"{m}","type":"sign-in","occurredAt":"٢٠٢٦-11-01T10:00:00+08:00"}""" },
        { "occurredAt", """{"eventId":"e-9","memberId":"{m}","type":"sign-in","occurredAt":"2026-11-01T10:00:00+0800"}""" },
        { "occurredAt", """{"eventId":"e-10","memberId":"{m}","type":"sign-in","occurredAt":"2026-11-01T24:00:00+08:00"}""" },
    };

    [Theory]
    [MemberData(nameof(EventFieldsWithANewline))]
    public async Task An_event_with_a_trailing_newline_or_a_loose_instant_is_rejected_by_field_and_applies_nothing(string field, string template)
    {
        var m = await MemberWithPoints();
        var rows = await LedgerRows(m);
        var (status, body) = await Http.Post($"{P}/events", template.Replace("{m}", m));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, body.GetProperty("accepted").GetInt32());
        Assert.Equal(field, body.GetProperty("rejected")[0].GetProperty("field").GetString());
        Assert.Equal(rows, await LedgerRows(m));
    }

    [Theory]
    [InlineData("2026-11-01T10:00:00.123456789+08:00", "2026-11-01T02:00:00.1234567+00:00")]
    [InlineData("2026-11-01T10:00:00.12345678+08:00", "2026-11-01T02:00:00.1234567+00:00")]
    [InlineData("2026-11-01t02:00:00.5z", "2026-11-01T02:00:00.5000000+00:00")]
    public async Task An_instant_with_nine_decimals_or_a_lower_case_t_and_z_is_taken_truncated_to_ticks(string occurredAt, string stored)
    {
        var m = NewId("inst-m");
        var (status, body) = await Http.Post($"{P}/events",
            $$"""{"eventId":"{{m}}-o1","memberId":"{{m}}","type":"order.paid","occurredAt":"{{occurredAt}}","orderId":"o1","amount":500}""");
        Assert.Equal((HttpStatusCode.OK, 1), (status, body.GetProperty("accepted").GetInt32()));
        var entry = (await Http.Get($"{P}/members/{m}/ledger?limit=1000")).Body.GetProperty("entries").EnumerateArray().Single(e => e.GetProperty("eventId").GetString() == $"{m}-o1");
        Assert.Equal(stored, entry.GetProperty("occurredAt").GetDateTimeOffset().ToString("O"));

        var trial = await Http.Post($"{P}/members/{m}/subscription", """{"subscriptionEventId":"s1","plan":"plus","action":"trial","at":"2026-11-20t00:00:00.123456789z"}""");
        Assert.Equal((HttpStatusCode.OK, "trial"), (trial.Status, trial.Body.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task An_instant_without_an_offset_is_refused_saying_what_is_taken()
    {
        var m = await MemberWithPoints();
        var (_, body) = await Http.Post($"{P}/events", $$"""{"eventId":"{{m}}-no-offset","memberId":"{{m}}","type":"sign-in","occurredAt":"2026-11-01T10:00:00.123456789"}""");
        var error = body.GetProperty("rejected")[0].GetProperty("error").GetString()!;
        Assert.Contains("up to 9 decimals, then Z or ±hh:mm, e.g. 2026-11-11T00:00:05+08:00", error);
        var (status, problem) = await Http.Post($"{P}/members/{m}/subscription", """{"subscriptionEventId":"s1","plan":"plus","action":"trial","at":"2026-11-20"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("up to 9 decimals", problem.ErrorFor("at"));
    }

    [Theory]
    [InlineData("-5", "must be greater than 0")]
    [InlineData("0", "must be greater than 0")]
    [InlineData("1.234", "must have at most 2 decimals")]
    [InlineData("1000000000.01", "must be at most 1000000000")]
    [InlineData("1e30", "must be at most 1000000000")]
    public async Task An_activity_with_an_amount_no_purchase_could_have_is_rejected_by_field(string amount, string message)
    {
        var m = await MemberWithPoints();
        var rows = await LedgerRows(m);
        var (status, body) = await Http.Post($"{P}/events", $$"""{"eventId":"share-{{amount}}","memberId":"{{m}}","type":"share","amount":{{amount}}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, body.GetProperty("accepted").GetInt32());
        var rejected = body.GetProperty("rejected")[0];
        Assert.Equal(("amount", message), (rejected.GetProperty("field").GetString(), rejected.GetProperty("error").GetString()![^message.Length..]));
        Assert.Equal(rows, await LedgerRows(m));
    }

    [Theory]
    [InlineData("events", """{"eventId":"y1","memberId":"{m}","type":"sign-in","occurredAt":"0001-01-01T00:00:00Z"}""", "occurredAt")]
    [InlineData("events", """{"eventId":"y2","memberId":"{m}","type":"sign-in","occurredAt":"1969-12-31T23:59:59Z"}""", "occurredAt")]
    [InlineData("subscription", """{"subscriptionEventId":"s-y","plan":"plus","action":"trial","at":"0001-01-01T00:00:00+00:00"}""", "at")]
    public async Task An_instant_before_1970_is_refused_by_field(string path, string template, string field)
    {
        var m = await MemberWithPoints();
        var rows = await LedgerRows(m);
        var body = template.Replace("{m}", m);
        if (path == "events")
        {
            var (status, answer) = await Http.Post($"{P}/events", body);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal((field, "occurredAt: must be 1970-01-01T00:00:00Z or later"), (answer.GetProperty("rejected")[0].GetProperty("field").GetString(), answer.GetProperty("rejected")[0].GetProperty("error").GetString()));
        }
        else
        {
            var (status, problem) = await Http.Post($"{P}/members/{m}/{path}", body);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("must be 1970-01-01T00:00:00Z or later", problem.ErrorFor(field));
        }
        Assert.Equal(rows, await LedgerRows(m));
    }

    [Theory]
    [InlineData("1e20", "must be a whole number from 1 to 9223372036854775807")]
    [InlineData("9223372036854775808", "must be a whole number from 1 to 9223372036854775807")]
    [InlineData("1e30", "must be a whole number from 1 to 9223372036854775807")]
    [InlineData("0", "must be a whole number from 1 to 9223372036854775807")]
    [InlineData("10.5", "must be a whole number")]
    [InlineData("\"10\"", "must be a whole number")]
    public async Task Redeemed_points_out_of_range_are_refused_saying_the_range(string points, string message)
    {
        var m = await MemberWithPoints();
        var rows = await LedgerRows(m);
        var (status, problem) = await Http.Post($"{P}/members/{m}/points/redemptions", $$"""{"redemptionId":"r-big","points":{{points}}}""");
        Assert.Equal((HttpStatusCode.BadRequest, message), (status, problem.ErrorFor("points")));
        Assert.Equal(rows, await LedgerRows(m));
    }

    [Theory]
    [InlineData("trial")]
    [InlineData("cancel")]
    public async Task A_term_on_a_trial_or_a_cancel_is_400_naming_it(string action)
    {
        var m = await MemberWithPoints();
        var rows = await LedgerRows(m);
        var (status, problem) = await Http.Post($"{P}/members/{m}/subscription", $$"""{"subscriptionEventId":"s-{{action}}","plan":"plus","action":"{{action}}","term":"P1M"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal($"is only for a purchase (a {action} takes none)", problem.ErrorFor("term"));
        Assert.Equal(rows, await LedgerRows(m));
    }

    public static TheoryData<string, string, string> WritesWithANewline => new()
    {
        { "points/redemptions", """{"redemptionId":"r-1\n","points":10}""", "redemptionId" },
        { "benefits/free-shipping/uses", """{"useId":"u-1\n"}""", "useId" },
        { "benefits/free-shipping/uses", """{"useId":"u-2","orderId":"o-1\n"}""", "orderId" },
        { "subscription", """{"subscriptionEventId":"s-1\n","plan":"plus","action":"trial"}""", "subscriptionEventId" },
        { "subscription", """{"subscriptionEventId":"s-2","plan":"plus","action":"trial","at":"2026-11-20T00:00:00+08:00\n"}""", "at" },
        { "subscription", """{"subscriptionEventId":"s-3","plan":"plus","action":"trial","at":"2026-11-20T00:00:00Z "}""", "at" },
    };

    [Theory]
    [MemberData(nameof(WritesWithANewline))]
    public async Task A_write_with_a_trailing_newline_in_an_id_or_instant_is_400_naming_the_field_and_applies_nothing(string path, string body, string field)
    {
        var m = await MemberWithPoints();
        var rows = await LedgerRows(m);
        var (status, problem) = await Http.Post($"{P}/members/{m}/{path}", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(field, problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
        Assert.Equal(rows, await LedgerRows(m));
    }

    [Theory]
    [InlineData("limit=5%0A")]
    [InlineData("limit=%205")]
    [InlineData("limit=+5")]
    [InlineData("before=1%0A")]
    public async Task Ledger_paging_numbers_are_whole_numbers_exactly(string query)
    {
        var m = await MemberWithPoints();
        Assert.Equal(HttpStatusCode.BadRequest, (await Http.Get($"{P}/members/{m}/ledger?{query}")).Status);
    }

    [Fact]
    public async Task A_program_id_with_a_trailing_newline_is_400()
    {
        var (status, problem) = await Http.Send(HttpMethod.Put, "/v1/programs/p%0A", TestPrograms.Json("default"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(CallerIds.Rule, problem.ErrorFor("programId"));
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Get("/v1/programs/p")).Status);
    }
}
