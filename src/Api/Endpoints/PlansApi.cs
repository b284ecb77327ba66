using Orleans.Membership.Grains;
using Microsoft.AspNetCore.Http.HttpResults;
using Orleans.Membership.Api.Http;

namespace Orleans.Membership.Api.Endpoints;

/// <summary>Paid plans as checkout sells them: each plan's terms and the price this member would pay now.</summary>
public static class PlansApi
{
    public static RouteGroupBuilder MapPlansApiV1(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/programs/{programId}/members/{memberId}/plans").RequireRole(Roles.Checkout);
        group.MapGet("", Get).WithName("GetPlans");
        return group;
    }

    /// <summary>A member never seen gets a guest's prices (checkout prices a plan before anyone enrolls).</summary>
    private static async Task<Results<Ok<PlansResponse>, ProblemHttpResult>> Get(string programId, string memberId, MemberRoute route, ProgramCatalog programs)
    {
        var (grain, error) = await route.Resolve(programId, memberId);
        if (error is not null) return error;
        var program = await programs.GetAsync(programId);
        return TypedResults.Ok(new PlansResponse(programId, memberId, program!.Currency, await grain!.GetPlans()));
    }
}
