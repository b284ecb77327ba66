using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orleans.Membership.Client;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Client;

/// <summary>
/// The published document (/openapi/v1.json, generated from the endpoints) against the typed client:
/// the same operations, each method's answer the operation's success schema, and every schema the client
/// mirrors with the same fields. A change on either side that the other does not follow fails here.
/// </summary>
public sealed class ClientDriftTests(NodeFixture node) : IClassFixture<NodeFixture>
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    private async Task<JsonObject> Document() => JsonNode.Parse(await node.Http.GetStringAsync("/openapi/v1.json"))!.AsObject();

    private static IEnumerable<(MethodInfo Method, ApiOperationAttribute Operation)> ClientOperations()
        => typeof(MembershipClient).GetMethods().Select(m => (m, m.GetCustomAttribute<ApiOperationAttribute>())).Where(x => x.Item2 is not null).Select(x => (x.m, x.Item2!));

    private static IEnumerable<(string Method, string Path, JsonObject Operation)> DocumentOperations(JsonObject document)
    {
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var method in Methods)
            {
                if (item![method] is JsonObject operation) yield return (method.ToUpperInvariant(), path, operation);
            }
        }
    }

    [Fact]
    public async Task Every_operation_of_the_document_has_a_client_method_and_every_method_an_operation()
    {
        var document = await Document();
        var documented = DocumentOperations(document).Select(o => $"{o.Method} {o.Path}").Order().ToArray();
        var covered = ClientOperations().Select(o => $"{o.Operation.Method} {o.Operation.Path}").Order().ToArray();
        Assert.Equal(documented, covered);
    }

    [Fact]
    public async Task Each_methods_answer_and_body_are_the_operations_schemas()
    {
        var document = await Document();
        var byOperation = DocumentOperations(document).ToDictionary(o => $"{o.Method} {o.Path}", o => o.Operation);
        foreach (var (method, attribute) in ClientOperations())
        {
            var operation = byOperation[$"{attribute.Method} {attribute.Path}"];
            var success = operation["responses"]!.AsObject().Where(r => r.Key is "200" or "201").Select(r => r.Value).FirstOrDefault();
            var schema = success?["content"]?["application/json"]?["schema"];
            var answer = attribute.Body ?? Unwrap(method.ReturnType);
            if (schema is null)
            {
                Assert.True(answer is null || answer == typeof(JsonObject) || answer == typeof(ChangeNotice), $"{method.Name}: the document gives no JSON answer, the client reads {answer?.Name}");
                continue;
            }
            var name = RefName(schema);
            if (name is null)
            {
                Assert.True(answer == typeof(JsonObject), $"{method.Name}: the document's answer is an inline schema, the client reads {answer?.Name}");
                continue;
            }
            Assert.True(answer?.Name == name, $"{method.Name}: the document answers {name}, the client reads {answer?.Name}");

            if (operation["requestBody"]?["content"]?["application/json"]?["schema"] is { } body && RefName(body) is { } bodyName)
            {
                // A program definition is free-form JSON (docs/programs.md); every other body has its record.
                Assert.True(bodyName == nameof(JsonObject) || typeof(MembershipClient).Assembly.GetType($"Orleans.Membership.Client.{bodyName}") is not null,
                    $"{method.Name}: the client has no record for the body {bodyName}");
            }
        }
    }

    [Fact]
    public async Task The_clients_records_have_exactly_the_fields_of_the_documents_schemas()
    {
        var document = await Document();
        var schemas = document["components"]!["schemas"]!.AsObject();
        var records = typeof(MembershipClient).Assembly.GetTypes().Where(t => t.IsPublic && t.Namespace == "Orleans.Membership.Client" && schemas.ContainsKey(t.Name)).ToList();
        // Every schema an operation's answer or body names is mirrored.
        var named = new[] { "MemberSummary", "BenefitCheck", "BenefitsResponse", "LedgerResponse", "LedgerEntryView", "RedemptionResult", "SubscriptionView", "EventsResponse",
            "RejectedEvent", "ProgramVersion", "WebhooksResponse", "DeadLettersResponse", "ReplayResponse", "StreamDiagnostics", "HealthResponse", "TierView", "GrowthView",
            "PointsView", "ExpiringPoints", "ConsumedPoints", "RuntimeDiagnostics", "GcView", "EnrollBody", "BenefitUseBody", "RedemptionBody", "SubscriptionBody", "EventBatchBody", "WebhooksBody" };
        Assert.Empty(named.Except(records.Select(r => r.Name)));
        foreach (var record in records) SameFields(record, schemas[record.Name]!, record.Name);
    }

    /// <summary>The record's properties are the schema's; records nested inline (a body's items) are compared too.</summary>
    private static void SameFields(Type record, JsonNode schema, string path)
    {
        var properties = schema["properties"]!.AsObject();
        var documented = properties.Select(p => p.Key).Order().ToArray();
        var members = record.GetProperties(BindingFlags.Public | BindingFlags.Instance).ToDictionary(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name));
        Assert.True(documented.SequenceEqual(members.Keys.Order()), $"{path}: the document has [{string.Join(", ", documented)}], the client [{string.Join(", ", members.Keys.Order())}]");
        foreach (var (name, property) in members)
        {
            var type = property.PropertyType;
            var element = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>) ? type.GetGenericArguments()[0] : type;
            if (element.Namespace != "Orleans.Membership.Client") continue;
            var nested = properties[name]!;
            nested = nested["items"] ?? nested;
            if (nested["properties"] is not null) SameFields(element, nested, $"{path}.{name}");
        }
    }

    [Fact]
    public async Task The_document_is_OpenAPI_3_1_with_the_key_scheme_roles_and_problem_reasons()
    {
        var document = await Document();
        Assert.StartsWith("3.1", (string)document["openapi"]!);
        var scheme = document["components"]!["securitySchemes"]!["ApiKey"]!;
        Assert.Equal(("apiKey", "header", "X-Api-Key"), ((string)scheme["type"]!, (string)scheme["in"]!, (string)scheme["name"]!));
        var operations = DocumentOperations(document).ToDictionary(o => $"{o.Method} {o.Path}", o => o.Operation);
        foreach (var (key, operation) in operations.Where(o => o.Key.Contains("/v1/", StringComparison.Ordinal)))
        {
            Assert.True(operation["x-membership-role"] is not null, $"{key} names no role");
            Assert.True(operation["security"] is JsonArray { Count: 1 }, $"{key} has no security requirement");
            Assert.Equal("#/components/schemas/ValidationProblem", (string)operation["responses"]!["400"]!["content"]!["application/problem+json"]!["schema"]!["$ref"]!);
        }
        Assert.Null(operations["GET /healthz"]["x-membership-role"]);
        Assert.Equal("checkout", (string)operations["GET /v1/programs/{programId}/members/{memberId}/benefits/{code}"]["x-membership-role"]!);
        Assert.Equal("ingest", (string)operations["POST /v1/programs/{programId}/events"]["x-membership-role"]!);
        Assert.Equal("admin", (string)operations["POST /v1/programs/{programId}/members/{memberId}/subscription"]["x-membership-role"]!);

        var use = operations["POST /v1/programs/{programId}/members/{memberId}/benefits/{code}/uses"]["responses"]!;
        Assert.NotNull(use["201"]);
        var reasons = use["409"]!["content"]!["application/problem+json"]!["schema"]!["allOf"]![1]!["properties"]!["reason"]!["enum"]!.AsArray().Select(r => (string)r!);
        Assert.Equal(["quota", "tier", "window", "id-reused"], reasons);
        Assert.NotNull(use["503"]!["headers"]!["Retry-After"]);
        Assert.Null(operations["GET /v1/programs/{programId}/members/{memberId}"]["responses"]!["409"]);
        Assert.Equal("text/html", (await node.Http.GetAsync("/docs/")).Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Request_bodies_require_only_what_the_endpoints_require_and_numbers_are_numbers()
    {
        var schemas = (await Document())["components"]!["schemas"]!.AsObject();
        string[] Required(string schema) => schemas[schema]!["required"]?.AsArray().Select(r => (string)r!).ToArray() ?? [];
        Assert.Empty(Required("EnrollBody"));
        Assert.Equal(["subscriptionEventId", "plan", "action"], Required("SubscriptionBody"));
        Assert.Equal(["useId"], Required("BenefitUseBody"));
        Assert.Equal(["redemptionId", "points"], Required("RedemptionBody"));
        var eventItem = schemas["EventBatchBody"]!["properties"]!["events"]!["items"]!;
        Assert.Equal(["eventId", "memberId", "type"], eventItem["required"]!.AsArray().Select(r => (string)r!));
        // The handlers refuse "5" for a number, so the document offers no string form.
        Assert.Equal("integer", (string)schemas["RedemptionBody"]!["properties"]!["points"]!["type"]!);
        Assert.Equal(["null", "number"], eventItem["properties"]!["amount"]!["type"]!.AsArray().Select(t => (string)t!));
    }

    private static Type? Unwrap(Type type)
    {
        if (type == typeof(Task)) return null;
        if (type.IsGenericType && type.GetGenericTypeDefinition() is var g && (g == typeof(Task<>) || g == typeof(IAsyncEnumerable<>))) return type.GetGenericArguments()[0];
        return type;
    }

    /// <summary>The component a schema refers to (directly, or as the non-null branch of a nullable one), or null for an inline schema.</summary>
    private static string? RefName(JsonNode schema)
    {
        if (schema["$ref"] is { } reference) return ((string)reference!).Split('/')[^1];
        foreach (var branch in (schema["oneOf"] ?? schema["anyOf"])?.AsArray() ?? [])
        {
            if (branch?["$ref"] is { } r) return ((string)r!).Split('/')[^1];
        }
        return null;
    }
}
