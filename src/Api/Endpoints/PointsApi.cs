using Microsoft.AspNetCore.Http.HttpResults;
using Orleans.Membership.Api.Http;
using Orleans.Membership.Api.Operations;
using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Api.Endpoints;

/// <summary>Points: redemptions, soonest-expiring buckets first, all or nothing.</summary>
public static class PointsApi
{
    public static RouteGroupBuilder MapPointsApiV1(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/programs/{programId}/members/{memberId}/points").RequireRole(Roles.Checkout);
        group.MapPost("/redemptions", Redeem).AcceptsJsonBodies().DocumentsBody<RedemptionBody>().Conflicts("balance", "id-reused").WithName("RedeemPoints");
        return group;
    }

    private static async Task<Results<Created<RedemptionResult>, ProblemHttpResult>> Redeem(string programId, string memberId, HttpRequest request, MemberRoute route)
    {
        var (grain, error) = await route.Resolve(programId, memberId);
        if (error is not null) return error;
        var (body, bodyError) = await MemberRoute.ReadObject(request);
        if (bodyError is not null) return bodyError;
        body!.RejectUnknown("redemptionId", "points", "reason");
        var redemptionId = body.Id("redemptionId");
        var points = body.Integer("points", min: 1, max: long.MaxValue, required: true);
        var reason = body.String("reason");
        if (reason is { Length: > 200 }) body.Error("reason", "must be at most 200 characters");
        if (body.HasErrors) return MembersApi.Invalid(body);
        var result = await grain!.Redeem(new RedemptionRequest(redemptionId!, points!.Value, reason));
        return MemberRoute.Answer(result, r => TypedResults.Created((string?)null, r));
    }
}
