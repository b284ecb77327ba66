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

    private static async Task<Results<Ok<BenefitsResponse>, ProblemHttpResult>> CheckAll(string programId, string memberId, MemberRoute route, MembershipMetrics metrics)
    {
        var (grain, error) = await route.Resolve(programId, memberId);
        if (error is not null) return error;
        var checks = await grain!.CheckBenefits();
        foreach (var check in checks) metrics.BenefitCheck(programId, check);
        return TypedResults.Ok(new BenefitsResponse(checks));
    }

    private static async Task<Results<Ok<BenefitCheck>, ProblemHttpResult>> Check(string programId, string memberId, string code, MemberRoute route, MemberReadModel readModel, ProgramCatalog programs, TimeProvider clock, MembershipMetrics metrics)
    {
        // The hot path: a member active in this silo is answered from the facts it published, no grain hop.
        if (readModel.TryGet(MemberKeys.Of(programId, memberId), out var facts) && await programs.GetAsync(programId) is { } program)
        {
            if (!program.BenefitsByCode.TryGetValue(code, out var benefit))
            {
                metrics.UnknownBenefit(programId);
                return Problems.NotFound($"benefit '{code}' is not defined by program '{programId}'");
            }
            var now = clock.GetUtcNow();
            if (facts.Answers(program, now))
            {
                var answer = facts.Check(program, benefit, now);
                metrics.BenefitCheck(programId, answer);
                return TypedResults.Ok(answer);
            }
        }
        var (grain, error) = await route.Resolve(programId, memberId);
        if (error is not null) return error;
        var check = await grain!.CheckBenefit(code);
        if (check is null)
        {
            metrics.UnknownBenefit(programId);
            return Problems.NotFound($"benefit '{code}' is not defined by program '{programId}'");
        }
        metrics.BenefitCheck(programId, check);
        return TypedResults.Ok(check);
    }

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
