using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Api;

/// <summary>
/// What a request body must be: JSON declared as JSON, each property once, within the size limits. Each
/// refusal is problem+json and applies nothing.
/// </summary>
[Collection(ClockedNodeCollection.Name)]
public sealed class RequestBodyTests(ClockedNodeFixture node)
{
    private const string P = "/v1/programs/default";
    private static int s_ids;
    private static string NewId(string prefix) => $"{prefix}{Interlocked.Increment(ref s_ids)}";
    private HttpClient Http => node.Http;

    private async Task<string> MemberWithPoints()
    {
        var m = NewId("body-m");
        var (status, body) = await Http.Post($"{P}/events",
            $$"""{"eventId":"{{m}}-o1","memberId":"{{m}}","type":"order.paid","occurredAt":"2026-11-01T10:00:00+08:00","orderId":"o1","amount":500}""");
        Assert.Equal((HttpStatusCode.OK, 1), (status, body.GetProperty("accepted").GetInt32()));
        return m;
    }

    private async Task<long> Balance(string member)
        => (await Http.Get($"{P}/members/{member}")).Body.GetProperty("points").GetProperty("balance").GetInt64();

    // ---- duplicate properties --------------------------------------------------------------------------

    public static TheoryData<string, string, string> Duplicates => new()
    {
        // path under the member ("" for the events endpoint), body, the field path named
        { "events", """{"eventId":"d-1","memberId":"{m}","type":"sign-in","type":"order.paid","orderId":"o9","amount":10}""", "type" },
        { "events", """{"events":[{"eventId":"d-2","memberId":"{m}","type":"share"},{"eventId":"d-3","memberId":"{m}","type":"order.paid","orderId":"o9","amount":10,"amount":20}]}""", "events[1].amount" },
        { "events", """{"events":[{"eventId":"d-4","memberId":"{m}","type":"share","attributes":{"channel":"app","channel":"pos"}}]}""", "events[0].attributes.channel" },
        { "events", """{"events":[],"events":[{"eventId":"d-5","memberId":"{m}","type":"share"}]}""", "events" },
        { "events", """{"eventId":"d-6","memberId":"{m}","type":"share","\u0074ype":"sign-in"}""", "type" },
        { "members/{m}/points/redemptions", """{"redemptionId":"r-1","points":10,"points":400}""", "points" },
        { "members/{m}/benefits/free-shipping/uses", """{"useId":"u-1","useId":"u-2"}""", "useId" },
        { "members/{m}/subscription", """{"subscriptionEventId":"s-1","plan":"plus","action":"trial","action":"purchase","term":"P1Y"}""", "action" },
        { "members/{m}", """{"birthday":"03-15","birthday":"04-01"}""", "birthday" },
    };

    [Theory]
    [MemberData(nameof(Duplicates))]
    public async Task A_property_given_twice_is_400_naming_its_path_and_applies_nothing(string path, string body, string field)
    {
        var m = await MemberWithPoints();
        var before = (await Http.Get($"{P}/members/{m}/ledger")).Body.GetRawText();
        var url = path == "events" ? $"{P}/events" : $"{P}/{path.Replace("{m}", m)}";
        var (status, problem) = await Http.Post(url, body.Replace("{m}", m));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("more than once", problem.ErrorFor(field));
        Assert.Equal(before, (await Http.Get($"{P}/members/{m}/ledger")).Body.GetRawText());
    }

    [Fact]
    public async Task A_webhook_property_given_twice_is_400_naming_its_path()
    {
        var (status, problem) = await Http.Send(HttpMethod.Put, $"{P}/webhooks",
            """{"webhooks":[{"url":"https://example.com/a","url":"https://example.com/b","secret":"a-secret-of-some-length"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("more than once", problem.ErrorFor("webhooks[0].url"));
    }

    // ---- UTF-8 -----------------------------------------------------------------------------------------

    public static TheoryData<string, string> NotUtf8 => new()
    {
        // path under the member ("events" for the events endpoint), body with ? where a 0xFF byte goes
        { "events", """{"eventId":"u8-1?","memberId":"{m}","type":"sign-in"}""" },
        { "events", """{"events":[{"eventId":"u8-2","memberId":"{m}","type":"share"},{"eventId":"u8-3","memberId":"{m}","type":"sign-in","attributes":{"k":"?"}}]}""" },
        { "members/{m}/points/redemptions", """{"redemptionId":"r-8","points":10,"reason":"?"}""" },
        { "members/{m}/benefits/free-shipping/uses", """{"useId":"u-8?"}""" },
        { "members/{m}/subscription", """{"subscriptionEventId":"s-8","plan":"plus?","action":"trial","term":"P1Y"}""" },
        { "members/{m}", """{"birthday":"03-1?"}""" },
        { "members/{m}", """{"k?":1}""" },
    };

    [Theory]
    [MemberData(nameof(NotUtf8))]
    public async Task A_body_that_is_not_utf8_is_400_and_applies_nothing(string path, string body)
    {
        var m = await MemberWithPoints();
        var before = (await Http.Get($"{P}/members/{m}/ledger")).Body.GetRawText();
        var url = path == "events" ? $"{P}/events" : $"{P}/{path.Replace("{m}", m)}";
        var bytes = Encoding.UTF8.GetBytes(body.Replace("{m}", m)).Select(b => b == '?' ? (byte)0xFF : b).ToArray();
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var (status, problem, _) = await Http.SendRaw(HttpMethod.Post, url, content);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("the body is not valid UTF-8", problem.ErrorFor("$"));
        Assert.Equal(before, (await Http.Get($"{P}/members/{m}/ledger")).Body.GetRawText());
    }

    public static TheoryData<string, string, string> HalfASurrogatePair => new()
    {
        // path under the member ("events" for the events endpoint), body, the field named; \ud83c is half of an emoji's pair
        { "events", """{"eventId":"sp-1","memberId":"{m}","type":"sign-in","attributes":{"note":"gift \ud83c"}}""", "attributes.note" },
        { "events", """{"events":[{"eventId":"sp-2","memberId":"{m}","type":"share"},{"eventId":"sp-3\udc81","memberId":"{m}","type":"sign-in"}]}""", "events[1].eventId" },
        { "events", """{"eventId":"sp-4","memberId":"{m}","type":"sign-in","attributes":{"k\ud83c":1}}""", "attributes" },
        { "members/{m}/points/redemptions", """{"redemptionId":"r-9","points":10,"reason":"gift \ud83c"}""", "reason" },
        { "members/{m}/subscription", """{"subscriptionEventId":"s-9","plan":"plus\udfff","action":"trial"}""", "plan" },
        { "members/{m}", """{"birthday":"\ud800"}""", "birthday" },
    };

    [Theory]
    [MemberData(nameof(HalfASurrogatePair))]
    public async Task A_string_with_half_a_surrogate_pair_is_400_naming_it_and_applies_nothing(string path, string body, string field)
    {
        var m = await MemberWithPoints();
        var before = (await Http.Get($"{P}/members/{m}/ledger")).Body.GetRawText();
        var url = path == "events" ? $"{P}/events" : $"{P}/{path.Replace("{m}", m)}";
        var (status, problem) = await Http.Send(HttpMethod.Post, url, body.Replace("{m}", m));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("half a UTF-16 surrogate pair", problem.ErrorFor(field));
        Assert.Equal(before, (await Http.Get($"{P}/members/{m}/ledger")).Body.GetRawText());
    }

    [Fact]
    public async Task A_whole_surrogate_pair_escaped_is_text_like_any_other()
    {
        var m = await MemberWithPoints();
        var (status, body) = await Http.Send(HttpMethod.Post, $"{P}/members/{m}/points/redemptions", """{"redemptionId":"r-10","points":10,"reason":"gift \ud83c\udf81"}""");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Contains("gift \U0001F381", Strings((await Http.Get($"{P}/members/{m}/ledger")).Body));

        static IEnumerable<string> Strings(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.Object => e.EnumerateObject().SelectMany(p => Strings(p.Value)),
            JsonValueKind.Array => e.EnumerateArray().SelectMany(Strings),
            JsonValueKind.String => [e.GetString()!],
            _ => [],
        };
    }

    // ---- no endpoint -----------------------------------------------------------------------------------

    [Fact]
    public async Task A_path_or_method_without_an_endpoint_is_problem_json_that_says_what_to_do()
    {
        var (status, problem) = await Http.Get("/v1/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("/openapi/v1.json", problem.GetProperty("detail").GetString());
        Assert.EndsWith("(beside it: /health/live, /health/ready, /metrics, /dashboard)", problem.GetProperty("detail").GetString()); // the paths the document does not list
        Assert.Equal(HttpStatusCode.OK, (await Http.Send(HttpMethod.Head, "/healthz")).Status); // load balancers probe with HEAD

        (status, problem) = await Http.Get($"{P}/events");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, status);
        Assert.Equal($"{P}/events does not take GET; it takes POST", problem.GetProperty("detail").GetString());
    }

    // ---- content type ----------------------------------------------------------------------------------

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData(null)]
    [InlineData("application/jsonx")]
    [InlineData("application/json; charset=iso-8859-1")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("text/json")]
    public async Task A_body_not_declared_as_json_is_415_and_applies_nothing(string? contentType)
    {
        var m = NewId("ct-m");
        var body = $$"""{"eventId":"{{m}}-e","memberId":"{{m}}","type":"sign-in"}""";
        var (status, problem, _) = await Http.SendRaw(HttpMethod.Post, $"{P}/events", Support.Http.Body(body, contentType));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Equal(415, problem.GetProperty("status").GetInt32());
        Assert.Contains("application/json", problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Get($"{P}/members/{m}")).Status);

        var member = await MemberWithPoints();
        Assert.Equal(HttpStatusCode.UnsupportedMediaType,
            (await Http.SendRaw(HttpMethod.Post, $"{P}/members/{member}/points/redemptions", Support.Http.Body("""{"redemptionId":"r-1","points":10}""", contentType))).Status);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType,
            (await Http.SendRaw(HttpMethod.Put, "/v1/programs/default", Support.Http.Body(TestPrograms.Json("default"), contentType))).Status);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType,
            (await Http.SendRaw(HttpMethod.Post, $"{P}/members/{NewId("ct-e")}", Support.Http.Body("""{"birthday":"03-15"}""", contentType))).Status);
        Assert.Equal(500, await Balance(member));
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON; charset=\"UTF-8\"")]
    [InlineData("application/vnd.membership.event+json")]
    public async Task A_body_declared_as_json_is_taken(string contentType)
    {
        var m = NewId("ct-ok");
        var body = $$"""{"eventId":"{{m}}-e","memberId":"{{m}}","type":"sign-in"}""";
        var (status, answer, _) = await Http.SendRaw(HttpMethod.Post, $"{P}/events", Support.Http.Body(body, contentType));
        Assert.Equal((HttpStatusCode.OK, 1), (status, answer.GetProperty("accepted").GetInt32()));
    }

    [Fact]
    public async Task A_body_may_start_with_a_byte_order_mark()
    {
        var m = NewId("bom");
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes($$"""{"eventId":"{{m}}-e","memberId":"{{m}}","type":"sign-in"}""")).ToArray();
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var (status, body, _) = await Http.SendRaw(HttpMethod.Post, $"{P}/events", content);
        Assert.Equal((HttpStatusCode.OK, 1), (status, body.GetProperty("accepted").GetInt32()));
    }

    [Fact]
    public async Task No_body_needs_no_content_type()
    {
        // Enrollment without a birthday, and an empty body with any declared type.
        Assert.Equal(HttpStatusCode.Created, (await Http.SendRaw(HttpMethod.Post, $"{P}/members/{NewId("nb")}", null)).Status);
        Assert.Equal(HttpStatusCode.Created, (await Http.SendRaw(HttpMethod.Post, $"{P}/members/{NewId("nb")}", Support.Http.Body("", "text/plain"))).Status);
        // In chunks with no declared type: nothing is no body; something is an undeclared body.
        Assert.Equal(HttpStatusCode.Created, (await Http.SendRaw(HttpMethod.Post, $"{P}/members/{NewId("nb")}", Chunked(""))).Status);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await Http.SendRaw(HttpMethod.Post, $"{P}/members/{NewId("nb")}", Chunked("""{"birthday":"03-15"}"""))).Status);
        var missing = await Http.SendRaw(HttpMethod.Post, $"{P}/events", null);
        Assert.Equal(HttpStatusCode.BadRequest, missing.Status);
        Assert.Equal(JsonValueKind.Object, missing.Body.GetProperty("errors").ValueKind);
    }

    private static UnsizedContent Chunked(string text) => new(Encoding.UTF8.GetBytes(text));

    /// <summary>A body of no declared length (sent in chunks) and no content type.</summary>
    private sealed class UnsizedContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    // ---- size ------------------------------------------------------------------------------------------

    /// <summary>An order event as a checkout system sends it: order numbers, a member number, two attributes.</summary>
    internal static string OrderEvent(int i, string member)
        => $$$"""{"eventId":"order-20261111{{{i:D8}}}-paid","memberId":"{{{member}}}","type":"order.paid","occurredAt":"2026-11-11T00:00:05.123+08:00","orderId":"order-20261111{{{i:D8}}}","amount":259.00,"attributes":{"channel":"app","storeId":"s-0042"}}""";

    [Fact]
    public async Task A_batch_of_1000_ordinary_events_fits_the_default_limit_with_room()
    {
        var members = Enumerable.Range(0, 50).Select(_ => NewId("size-m")).ToArray();
        var batch = $$"""{"events":[{{string.Join(",", Enumerable.Range(0, 1000).Select(i => OrderEvent(i, members[i % members.Length])))}}]}""";
        // About 230 kB (docs/api.md gives these sizes): well under half the default limit.
        Assert.InRange(Encoding.UTF8.GetByteCount(batch), 220_000, 240_000);
        var (status, body) = await Http.Post($"{P}/events", batch);
        Assert.Equal((HttpStatusCode.OK, 1000), (status, body.GetProperty("accepted").GetInt32()));

        // Even with every id at its longest (128 characters) a full batch stays under the limit.
        var longest = $$"""{"events":[{{string.Join(",", Enumerable.Range(0, 1000).Select(i =>
            $$$"""{"eventId":"{{{new string('e', 124)}}}{{{i:D4}}}","memberId":"{{{new string('m', 128)}}}","type":"order.paid","occurredAt":"2026-11-11T00:00:05.1234567+08:00","orderId":"{{{new string('o', 124)}}}{{{i:D4}}}","amount":999999999.99,"attributes":{"channel":"app","storeId":"s-0042"}}"""))}}]}""";
        Assert.InRange(Encoding.UTF8.GetByteCount(longest), 560_000, 570_000);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_and_applies_nothing()
    {
        var m = NewId("big-m");
        // One 2 MiB attribute; then 2 MiB of whitespace around a valid event.
        var attribute = $$$"""{"eventId":"{{{m}}}-1","memberId":"{{{m}}}","type":"sign-in","attributes":{"note":"{{{new string('x', 2 * 1024 * 1024)}}}"}}""";
        var whitespace = $$"""{"eventId":"{{m}}-2","memberId":"{{m}}","type":"sign-in"{{new string(' ', 2 * 1024 * 1024)}}}""";
        foreach (var body in new[] { attribute, whitespace })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{P}/events") { Content = Support.Http.Json(body) };
            request.Headers.ExpectContinue = true;
            using var response = await Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Contains("1048576", problem.RootElement.GetProperty("detail").GetString());
        }
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Get($"{P}/members/{m}")).Status);
    }

    [Fact]
    public async Task A_program_definition_has_its_own_larger_limit()
    {
        // A definition padded past the ordinary limit is still a definition.
        var id = NewId("big-program");
        var padded = TestPrograms.Json("default").TrimEnd()[..^1] + new string(' ', 1536 * 1024) + "}";
        var (status, body) = await Http.Send(HttpMethod.Put, $"/v1/programs/{id}", padded);
        Assert.Equal((HttpStatusCode.OK, 1), (status, body.GetProperty("version").GetInt32()));

        var tooBig = TestPrograms.Json("default").TrimEnd()[..^1] + new string(' ', 5 * 1024 * 1024) + "}";
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/v1/programs/{id}") { Content = Support.Http.Json(tooBig) };
        request.Headers.ExpectContinue = true;
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}

/// <summary>A node with small body limits: the limits are settings, and a chunked body is held to them too.</summary>
public sealed class SmallLimitsNodeFixture : NodeFixture
{
    protected override IEnumerable<string> ExtraArgs =>
    [
        "--Membership:Limits:MaxBodyBytes=2000",
        "--Membership:Limits:MaxProgramBytes=8000",
    ];
}

public sealed class RequestLimitSettingsTests(SmallLimitsNodeFixture node) : IClassFixture<SmallLimitsNodeFixture>
{
    [Fact]
    public async Task The_limits_are_settings_and_hold_for_bodies_of_unknown_length()
    {
        var events = string.Join(",", Enumerable.Range(0, 10).Select(i => RequestBodyTests.OrderEvent(i, "small-m")));
        var batch = $$"""{"events":[{{events}}]}""";
        Assert.True(batch.Length is > 2000 and < 4000);

        // Sized and chunked (no Content-Length: the limit is found while reading).
        var sized = await node.Http.SendRaw(HttpMethod.Post, "/v1/programs/default/events", Support.Http.Json(batch));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, sized.Status);
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(batch)));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/programs/default/events") { Content = chunked })
        {
            request.Headers.TransferEncodingChunked = true;
            using var response = await node.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await node.Http.Get("/v1/programs/default/members/small-m")).Status);

        // A program definition (3 kB) fits its own limit, not one more than twice as large.
        Assert.Equal(HttpStatusCode.OK, (await node.Http.Send(HttpMethod.Put, "/v1/programs/small", TestPrograms.Json("default"))).Status);
        var padded = TestPrograms.Json("default").TrimEnd()[..^1] + new string(' ', 6000) + "}";
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await node.Http.SendRaw(HttpMethod.Put, "/v1/programs/small", Support.Http.Json(padded))).Status);
    }
}
