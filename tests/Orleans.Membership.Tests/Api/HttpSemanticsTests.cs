using System.Net;
using System.Text.Json.Nodes;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Api;

/// <summary>What a client written from the HTTP specifications and the OpenAPI document alone relies on: HEAD wherever GET is, every parameter declared.</summary>
[Collection(ClockedNodeCollection.Name)]
public sealed class HttpSemanticsTests(ClockedNodeFixture node)
{
    private const string P = "/v1/programs/default";
    private HttpClient Http => node.Http;

    private async Task<string> Member()
    {
        var m = "head-" + Guid.NewGuid().ToString("N")[..8];
        var (status, body) = await Http.Post($"{P}/events",
            $$"""{"eventId":"{{m}}-o1","memberId":"{{m}}","type":"order.paid","occurredAt":"2026-11-01T10:00:00+08:00","orderId":"o1","amount":500}""");
        Assert.Equal((HttpStatusCode.OK, 1), (status, body.GetProperty("accepted").GetInt32()));
        return m;
    }

    [Theory]
    [InlineData("{P}/members/{m}")]
    [InlineData("{P}/members/{m}/ledger")]
    [InlineData("{P}/members/{m}/ledger?limit=1")]
    [InlineData("{P}/members/{m}/ledger?limit=0")]
    [InlineData("{P}/members/{m}/benefits")]
    [InlineData("{P}/members/{m}/benefits/free-shipping")]
    [InlineData("{P}/members/{m}/benefits/no-such-benefit")]
    [InlineData("{P}")]
    [InlineData("{P}/members/{m}/plans")]
    [InlineData("{P}/webhooks")]
    [InlineData("/v1/programs")]
    [InlineData("/v1/diagnostics/runtime")]
    public async Task HEAD_answers_the_status_and_headers_of_GET_without_the_body(string template)
    {
        var path = template.Replace("{P}", P).Replace("{m}", await Member());
        using var get = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, path));
        Assert.NotEmpty(await get.Content.ReadAsByteArrayAsync());
        using var head = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
        Assert.Equal(get.StatusCode, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentType?.ToString(), head.Content.Headers.ContentType?.ToString());
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task HEAD_on_an_unknown_member_is_404_and_enrolls_nobody()
    {
        var m = "head-none-" + Guid.NewGuid().ToString("N")[..8];
        using var head = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"{P}/members/{m}"));
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.Get($"{P}/members/{m}")).Status);
    }

    [Fact]
    public async Task HEAD_on_the_change_feed_answers_its_headers_and_ends()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var head = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"{P}/changes"), HttpCompletionOption.ResponseContentRead, timeout.Token);
        Assert.Equal((HttpStatusCode.OK, "text/event-stream"), (head.StatusCode, head.Content.Headers.ContentType?.MediaType));
        // The feed's handler ended: the connection serves the next request.
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync("/healthz", timeout.Token)).StatusCode);
    }

    [Fact]
    public async Task The_OpenAPI_document_declares_the_parameters_endpoints_read_themselves_and_no_HEAD_twins()
    {
        var document = JsonNode.Parse(await Http.GetStringAsync("/openapi/v1.json"))!;
        var paths = document["paths"]!.AsObject();
        (string In, string? Type) Parameter(string path, string method, string name)
        {
            var parameters = paths[path]![method]!["parameters"]?.AsArray() ?? [];
            var parameter = parameters.SingleOrDefault(p => p!["name"]!.GetValue<string>() == name);
            Assert.True(parameter is not null, $"{method} {path} does not declare '{name}'");
            return (parameter!["in"]!.GetValue<string>(), parameter["schema"]?["type"]?.ToString());
        }
        Assert.Equal(("query", "string"), Parameter("/v1/programs/{programId}/webhooks/dead-letters", "delete", "url"));
        Assert.Equal(("query", "integer"), Parameter("/v1/programs/{programId}/changes", "get", "after"));
        Assert.Equal(("header", "integer"), Parameter("/v1/programs/{programId}/changes", "get", "Last-Event-ID"));
        Assert.Equal(("query", "integer"), Parameter("/v1/programs/{programId}/members/{memberId}/ledger", "get", "limit"));
        Assert.Equal(("query", "integer"), Parameter("/v1/programs/{programId}/members/{memberId}/ledger", "get", "before"));
        Assert.DoesNotContain(paths, p => p.Value!.AsObject().ContainsKey("head"));
    }
}
