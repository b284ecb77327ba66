using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Orleans.Membership.Api.Http;
using Scalar.AspNetCore;

namespace Orleans.Membership.Api.Operations;

/// <summary>Endpoint metadata: the role an operation needs (added by <see cref="ApiKeyAuthorization.RequireRole{TBuilder}"/>).</summary>
public sealed record RequiredRole(string Role);

/// <summary>Endpoint metadata: the <c>reason</c> values of the operation's 409 answers.</summary>
public sealed record ConflictReasons(IReadOnlyList<string> Reasons);

/// <summary>
/// Endpoint metadata: the JSON body an operation takes, for the document only. (Accepts metadata would also
/// make routing answer 415 itself, before the key is checked and without the API's problem shape.)
/// </summary>
public sealed record DocumentedBody(Type Type, bool Optional);

/// <summary>
/// Endpoint metadata: a query parameter or header the handler reads itself (or binds as text to word its own
/// errors), for the document only: declared with its type, replacing what the signature would give.
/// </summary>
public sealed record DocumentedParameter(string Name, ParameterLocation In, JsonSchemaType Type, string Description);

public static class OpenApiMetadataExtensions
{
    public static TBuilder DocumentsQuery<TBuilder>(this TBuilder builder, string name, JsonSchemaType type, string description) where TBuilder : IEndpointConventionBuilder
        => builder.WithMetadata(new DocumentedParameter(name, ParameterLocation.Query, type, description));

    public static TBuilder DocumentsHeader<TBuilder>(this TBuilder builder, string name, JsonSchemaType type, string description) where TBuilder : IEndpointConventionBuilder
        => builder.WithMetadata(new DocumentedParameter(name, ParameterLocation.Header, type, description));

    public static TBuilder Conflicts<TBuilder>(this TBuilder builder, params string[] reasons) where TBuilder : IEndpointConventionBuilder
        => builder.WithMetadata(new ConflictReasons(reasons));

    public static RouteHandlerBuilder DocumentsBody<TBody>(this RouteHandlerBuilder builder, bool optional = false)
        => builder.WithMetadata(new DocumentedBody(typeof(TBody), optional));
}

/// <summary>
/// The OpenAPI 3.1 document at <c>/openapi/v1.json</c>, generated from the endpoints (their typed results
/// give the success shapes), with the API's problem answers, the <c>X-Api-Key</c> scheme and the role each
/// operation needs; Scalar's interactive reference at <c>/docs</c>.
/// </summary>
public static class MembershipOpenApi
{
    public const string Document = "v1";
    public const string SecurityScheme = "ApiKey";
    public const string RoleExtension = "x-membership-role";
    /// <summary>Every <c>reason</c> a 409 can carry (docs/api.md).</summary>
    public static readonly string[] AllConflictReasons = ["quota", "tier", "window", "balance", "trial-used", "active", "not-active", "no-trial", "id-reused"];

    public static IServiceCollection AddMembershipOpenApi(this IServiceCollection services)
        => services.AddOpenApi(Document, o =>
        {
            o.AddDocumentTransformer((document, _, _) =>
            {
                Describe(document);
                return Task.CompletedTask;
            });
            o.AddOperationTransformer(async (operation, context, cancellationToken) =>
            {
                if (context.Description.ActionDescriptor.EndpointMetadata.OfType<DocumentedBody>().LastOrDefault() is { } body)
                {
                    operation.RequestBody = new OpenApiRequestBody
                    {
                        Required = !body.Optional,
                        Content = new Dictionary<string, OpenApiMediaType>
                        {
                            ["application/json"] = new OpenApiMediaType { Schema = await Component(body.Type, context, cancellationToken) },
                        },
                    };
                }
                foreach (var parameter in context.Description.ActionDescriptor.EndpointMetadata.OfType<DocumentedParameter>())
                {
                    operation.Parameters ??= [];
                    var same = operation.Parameters.FirstOrDefault(p => p.Name == parameter.Name && p.In == parameter.In);
                    if (same is not null) operation.Parameters.Remove(same);
                    operation.Parameters.Add(new OpenApiParameter
                    {
                        Name = parameter.Name,
                        In = parameter.In,
                        Description = parameter.Description,
                        Schema = new OpenApiSchema { Type = parameter.Type },
                    });
                }
                Describe(operation, context, context.Document!);
            });
        });

    public static WebApplication MapMembershipOpenApi(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapScalarApiReference("/docs", o => o.WithTitle("Orleans.Membership API").WithOpenApiRoutePattern("/openapi/{documentName}.json"));
        return app;
    }

    private static void Describe(OpenApiDocument document)
    {
        // Every GET also takes HEAD (RFC 9110); a twin operation of the same id would only repeat it.
        foreach (var item in document.Paths.Values.OfType<OpenApiPathItem>()) item.Operations?.Remove(HttpMethod.Head);
        document.Info = new OpenApiInfo
        {
            Title = "Orleans.Membership API",
            Version = "v1",
            Description = "The membership engine's HTTP API: programs, members, benefits, points, paid plans, events, changes. " +
                "Errors are application/problem+json; a 409 carries a `reason`. With API keys configured, send one in `X-Api-Key`: " +
                "each operation names the role it needs (`x-membership-role`; `admin` may do everything). Every GET also answers HEAD.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[SecurityScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = ApiKeyAuthorization.Header,
            Description = "An API key from Membership:ApiKeys; its roles (checkout, ingest, admin) decide what it may call.",
        };
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        document.Components.Schemas["Problem"] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "RFC 7807 problem details",
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["type"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
                ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "what went wrong and what to do" },
                ["instance"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
                ["reason"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "why, for a client to tell causes apart (409: see ConflictProblem; 429: rate-limit)" },
            },
            Required = new HashSet<string> { "title", "status", "detail" },
        };
        document.Components.Schemas["ValidationProblem"] = new OpenApiSchema
        {
            Description = "400: every problem of the request, keyed by field path (events[3].amount, birthday, $ for the body)",
            AllOf = [new OpenApiSchemaReference("Problem", document), new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["errors"] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                    },
                },
                Required = new HashSet<string> { "errors" },
            }],
        };
        document.Components.Schemas["ConflictProblem"] = new OpenApiSchema
        {
            Description = "409: the request conflicts with the member's state; `reason` says why",
            AllOf = [new OpenApiSchemaReference("Problem", document), new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Properties = new Dictionary<string, IOpenApiSchema> { ["reason"] = Reasons(AllConflictReasons) },
                Required = new HashSet<string> { "reason" },
            }],
        };
    }

    private static void Describe(OpenApiOperation operation, OpenApiOperationTransformerContext context, OpenApiDocument document)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var path = "/" + (context.Description.RelativePath ?? "");
        operation.Responses ??= new OpenApiResponses();
        if (metadata.OfType<RequiredRole>().LastOrDefault() is { } role)
        {
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SecurityScheme, document)] = [] }];
            operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
            operation.Extensions[RoleExtension] = new JsonNodeExtension(JsonValue.Create(role.Role));
            operation.Description = $"Role: `{role.Role}`" + (role.Role == Roles.Admin ? "." : " (or `admin`).") + (operation.Description is null ? "" : " " + operation.Description);
            Problem(operation, document, "401", "Problem", "no API key, an unknown one or more than one (only when keys are configured); WWW-Authenticate: ApiKey header=\"X-Api-Key\"");
            Problem(operation, document, "403", "Problem", $"the API key does not hold the '{role.Role}' role");
            Problem(operation, document, "429", "Problem", "the API key is over its rate limit (reason rate-limit; only when limits are configured)", retryAfter: true);
        }
        if (!path.StartsWith("/v1/", StringComparison.Ordinal)) return;
        Problem(operation, document, "400", "ValidationProblem", "the request is invalid: nothing of it was applied");
        if (path.Contains("{programId}", StringComparison.Ordinal)) Problem(operation, document, "404", "Problem", "unknown program (or member, benefit code, as the operation says)");
        if (metadata.OfType<ConflictReasons>().LastOrDefault() is { } conflicts)
        {
            operation.Responses["409"] = new OpenApiResponse
            {
                Description = "the request conflicts with the member's state; reason: " + string.Join(", ", conflicts.Reasons),
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/problem+json"] = new OpenApiMediaType
                    {
                        Schema = new OpenApiSchema
                        {
                            AllOf = [new OpenApiSchemaReference("ConflictProblem", document), new OpenApiSchema
                            {
                                Type = JsonSchemaType.Object,
                                Properties = new Dictionary<string, IOpenApiSchema> { ["reason"] = Reasons(conflicts.Reasons) },
                            }],
                        },
                    },
                },
            };
        }
        if (operation.RequestBody is not null)
        {
            Problem(operation, document, "413", "Problem", "the body is over the size limit");
            Problem(operation, document, "415", "Problem", "the body is not declared application/json");
        }
        Problem(operation, document, "503", "Problem",
            "the store or the cluster cannot serve the request now; retry the same request with the same ids (what was applied counts as a duplicate)", retryAfter: true);
    }

    /// <summary>A reference to the type's schema among the document's components (added on first use).</summary>
    private static async Task<IOpenApiSchema> Component(Type type, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var document = context.Document!;
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        if (!document.Components.Schemas.ContainsKey(type.Name))
        {
            document.Components.Schemas[type.Name] = await context.GetOrCreateSchemaAsync(type, null, cancellationToken);
        }
        return new OpenApiSchemaReference(type.Name, document);
    }

    private static OpenApiSchema Reasons(IEnumerable<string> reasons)
        => new() { Type = JsonSchemaType.String, Enum = reasons.Select(r => (JsonNode)JsonValue.Create(r)).ToList() };

    private static void Problem(OpenApiOperation operation, OpenApiDocument document, string status, string schema, string description, bool retryAfter = false)
    {
        if (operation.Responses!.ContainsKey(status)) return;
        operation.Responses[status] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new OpenApiMediaType { Schema = new OpenApiSchemaReference(schema, document) } },
            Headers = retryAfter
                ? new Dictionary<string, IOpenApiHeader> { ["Retry-After"] = new OpenApiHeader { Description = "seconds to wait before retrying", Schema = new OpenApiSchema { Type = JsonSchemaType.Integer } } }
                : null,
        };
    }
}
