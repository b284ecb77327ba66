using Microsoft.AspNetCore.Http.HttpResults;
using Orleans.Membership.Api.Http;
using Orleans.Membership.Api.Operations;
using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Api.Endpoints;

/// <summary>Paid plans: trial, purchase, cancel (admin).</summary>
public static class SubscriptionsApi
{
    public static RouteGroupBuilder MapSubscriptionsApiV1(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/programs/{programId}/members/{memberId}/subscription").RequireRole(Roles.Admin);
        group.MapPost("", Change).AcceptsJsonBodies().DocumentsBody<SubscriptionBody>().Conflicts("trial-used", "active", "not-active", "no-trial", "id-reused").WithName("ChangeSubscription");
        return group;
    }

    private static async Task<Results<Ok<SubscriptionView>, ProblemHttpResult>> Change(string programId, string memberId, HttpRequest request, MemberRoute route)
    {
        var (grain, error) = await route.Resolve(programId, memberId);
        if (error is not null) return error;
        var (body, bodyError) = await MemberRoute.ReadObject(request);
        if (bodyError is not null) return bodyError;
        body!.RejectUnknown("subscriptionEventId", "plan", "action", "term", "at");
        var id = body.Id("subscriptionEventId");
        var plan = body.String("plan", required: true);
        var action = body.String("action", required: true);
        if (action is not null and not ("purchase" or "trial" or "cancel")) body.Error("action", "must be one of purchase, trial, cancel");
        var term = body.String("term", required: action == "purchase");
        var at = body.Instant("at");
        if (body.HasErrors) return MembersApi.Invalid(body);
        var result = await grain!.Subscribe(new SubscriptionRequest(id!, plan!, action!, term, at));
        return MemberRoute.Answer(result, view => TypedResults.Ok(view));
    }
}
