using System.Text.Json.Nodes;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Api;

/// <summary>What a client written from the HTTP specifications and the OpenAPI document alone relies on: every parameter declared.</summary>
[Collection(ClockedNodeCollection.Name)]
public sealed class HttpSemanticsTests(ClockedNodeFixture node)
{
    private HttpClient Http => node.Http;

    [Fact]
    public async Task The_OpenAPI_document_declares_the_parameters_endpoints_read_themselves()
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
    }
}
