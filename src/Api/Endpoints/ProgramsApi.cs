using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Api.Http;
using Orleans.Membership.Api.Operations;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Grains;

namespace Orleans.Membership.Api.Endpoints;

/// <summary>Program definitions (admin): rules as data, versioned.</summary>
public static class ProgramsApi
{
    public static RouteGroupBuilder MapProgramsApiV1(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/programs", List).RequireRole(Roles.Admin).WithName("ListPrograms");
        var group = routes.MapGroup("/v1/programs/{programId}").RequireRole(Roles.Admin);
        group.MapPut("", Put).AcceptsJsonBodies(limits => limits.MaxProgramBytes).DocumentsBody<JsonObject>().WithName("PutProgram");
        group.MapGet("", Get).WithName("GetProgram");
        return group;
    }

    private static async Task<Results<Ok<ProgramVersion>, ProblemHttpResult>> Put(string programId, HttpRequest request, IGrainFactory grains, ProgramCatalog catalog)
    {
        if (!CallerIds.IsValid(programId)) return Problems.Validation("programId", CallerIds.Rule);
        var (json, bodyError) = await RequestBodies.ReadTextAsync(request);
        if (bodyError is not null) return bodyError;
        var grain = grains.GetGrain<IProgramGrain>(programId);
        var update = await grain.Put(json!);
        if (update.Version is not { } version)
        {
            var errors = update.Problems.GroupBy(p => p.Path).ToDictionary(g => g.Key, g => g.Select(p => p.Message).ToArray());
            return Problems.Validation(errors, $"the program definition has {update.Problems.Count} problem(s)");
        }
        if (await grain.Get() is { } stored) catalog.Publish(stored);
        return TypedResults.Ok(new ProgramVersion(programId, version));
    }

    private static async Task<Ok<ProgramList>> List(IGrainFactory grains)
        => TypedResults.Ok(new ProgramList(await grains.GetGrain<IProgramDirectoryGrain>(0).List()));

    private static async Task<Results<Ok<JsonObject>, ProblemHttpResult>> Get(string programId, IGrainFactory grains)
    {
        if (!CallerIds.IsValid(programId)) return Problems.Validation("programId", CallerIds.Rule);
        var definition = await grains.GetGrain<IProgramGrain>(programId).Get();
        if (definition is null) return Problems.NotFound($"program '{programId}' not found");
        var node = JsonNode.Parse(definition.Json)!.AsObject();
        var result = new JsonObject { ["id"] = programId, ["version"] = definition.Version };
        foreach (var (key, value) in node.ToList())
        {
            node.Remove(key);
            result[key] = value;
        }
        return TypedResults.Ok(result);
    }
}
