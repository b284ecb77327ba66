using Orleans.Membership.Abstractions;
using Microsoft.AspNetCore.Http.HttpResults;
using Orleans.Membership.Api.Http;
using Orleans.Membership.Api.Operations;
using Orleans.Membership.Grains;
using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Api.Endpoints;

/// <summary>Benefits: the checkout hot path (checks) and quota-limited uses.</summary>
public static class BenefitsApi
{
    public static RouteGroupBuilder MapBenefitsApiV1(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/programs/{programId}/members/{memberId}/benefits").RequireRole(Roles.Checkout);
        group.MapGet("", CheckAll).WithName("CheckBenefits");
        group.MapGet("/{code}", Check).WithName("CheckBenefit");
        group.MapPost("/{code}/uses", Use).AcceptsJsonBodies().DocumentsBody<BenefitUseBody>().Conflicts("quota", "tier", "window", "id-reused").WithName("UseBenefit");
        return group;
    }

    private static async Task<Results<Ok<BenefitsResponse>, ProblemHttpResult>> CheckAll(string programId, string memberId, HttpRequest request, MemberRoute route, MembershipMetrics metrics)
    {
        var counted = Counted(request, metrics);
        var (grain, error) = await route.Resolve(programId, memberId);
        if (error is not null) return error;
        var checks = await grain!.CheckBenefits();
        foreach (var check in checks) counted?.BenefitCheck(programId, check);
        return TypedResults.Ok(new BenefitsResponse(checks));
    }

    private static async Task<Results<Ok<BenefitCheck>, ProblemHttpResult>> Check(string programId, string memberId, string code, HttpRequest request, MemberRoute route, MemberReadModel readModel, ProgramCatalog programs, TimeProvider clock, MembershipMetrics metrics)
    {
        var counted = Counted(request, metrics);
        // The hot path: a member active in this silo is answered from the facts it published, no grain hop.
        if (readModel.TryGet(MemberKeys.Of(programId, memberId), out var facts) && await programs.GetAsync(programId) is { } program)
        {
            if (!program.BenefitsByCode.TryGetValue(code, out var benefit))
            {
                counted?.UnknownBenefit(programId);
                return Problems.NotFound($"benefit '{code}' is not defined by program '{programId}'");
            }
            var now = clock.GetUtcNow();
            if (facts.Answers(program, now))
            {
                var answer = facts.Check(program, benefit, now);
                counted?.BenefitCheck(programId, answer);
                return TypedResults.Ok(answer);
            }
        }
        var (grain, error) = await route.Resolve(programId, memberId);
        if (error is not null) return error;
        var check = await grain!.CheckBenefit(code);
        if (check is null)
        {
            counted?.UnknownBenefit(programId);
            return Problems.NotFound($"benefit '{code}' is not defined by program '{programId}'");
        }
        counted?.BenefitCheck(programId, check);
        return TypedResults.Ok(check);
    }

    /// <summary>The metrics a check counts in: none for HEAD, which asks whether a GET would succeed and checks nobody out.</summary>
    private static MembershipMetrics? Counted(HttpRequest request, MembershipMetrics metrics) => HttpMethods.IsHead(request.Method) ? null : metrics;

    private static async Task<Results<Created<BenefitCheck>, ProblemHttpResult>> Use(string programId, string memberId, string code, HttpRequest request, MemberRoute route, MembershipMetrics metrics)
    {
        var (grain, program, error) = await route.ResolveWithProgram(programId, memberId);
        if (error is not null) return error;
        var (body, bodyError) = await MemberRoute.ReadObject(request);
        if (bodyError is not null) return bodyError;
        body!.RejectUnknown("useId", "orderId");
        var useId = body.Id("useId");
        var orderId = body.Id("orderId", required: false);
        if (body.HasErrors) return MembersApi.Invalid(body);
        var result = await grain!.UseBenefit(new BenefitUseRequest(code, useId!, orderId));
        metrics.BenefitUse(programId, program!.BenefitsByCode.ContainsKey(code) ? code : null, result);
        return MemberRoute.Answer(result, check => TypedResults.Created((string?)null, check));
    }
}
