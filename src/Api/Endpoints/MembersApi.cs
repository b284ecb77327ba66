using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Api.Http;
using Orleans.Membership.Api.Operations;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Domain.Programs;
using Orleans.Membership.Grains;

namespace Orleans.Membership.Api.Endpoints;

/// <summary>What a member endpoint needs: the grains, the program catalog, and the route's ids checked.</summary>
public sealed class MemberRoute(IGrainFactory grains, ProgramCatalog programs)
{
    public IGrainFactory Grains => grains;

    /// <summary>Checks the ids of the route and that the program exists; returns the grain, or the error to answer.</summary>
    public async Task<(IMemberGrain? Grain, ProblemHttpResult? Error)> Resolve(string programId, string memberId)
    {
        var (grain, _, error) = await ResolveWithProgram(programId, memberId);
        return (grain, error);
    }

    /// <summary>As <see cref="Resolve"/>, also handing back the program, for an endpoint that reads its definitions.</summary>
    public async Task<(IMemberGrain? Grain, MembershipProgram? Program, ProblemHttpResult? Error)> ResolveWithProgram(string programId, string memberId)
    {
        if (!CallerIds.IsValid(programId)) return (null, null, Problems.Validation("programId", CallerIds.Rule));
        if (!CallerIds.IsValid(memberId)) return (null, null, Problems.Validation("memberId", CallerIds.Rule));
        var (program, error) = await FindProgram(programId);
        if (error is not null) return (null, null, error);
        return (grains.Member(MemberKeys.Of(programId, memberId)), program, null);
    }

    /// <summary>Checks a route's program id and that the program exists; null when it does.</summary>
    public async Task<ProblemHttpResult?> CheckProgram(string programId) => (await FindProgram(programId)).Error;

    private async Task<(MembershipProgram? Program, ProblemHttpResult? Error)> FindProgram(string programId)
    {
        if (!CallerIds.IsValid(programId)) return (null, Problems.Validation("programId", CallerIds.Rule));
        return await programs.GetAsync(programId) is { } program ? (program, null) : (null, Problems.NotFound($"program '{programId}' not found"));
    }

    /// <summary>The body as a JSON object (absent: null when <paramref name="optional"/>), or the error to answer.</summary>
    public static async Task<(JsonBody? Body, ProblemHttpResult? Error)> ReadObject(HttpRequest request, bool optional = false)
    {
        var (doc, error) = await RequestBodies.ReadJsonAsync(request, optional);
        if (error is not null) return (null, error);
        if (doc is null) return (null, null);
        if (doc.RootElement.ValueKind != JsonValueKind.Object) return (null, Problems.Validation("$", "the body must be a JSON object"));
        return (new JsonBody(doc.RootElement, "", new Dictionary<string, string[]>()), null);
    }

    /// <summary>Maps a write's outcome to the contract's statuses.</summary>
    public static Results<TOk, ProblemHttpResult> Answer<T, TOk>(WriteResult<T> result, Func<T, TOk> ok) where TOk : IResult => result.Status switch
    {
        WriteStatus.Applied or WriteStatus.Replayed => ok(result.Value!),
        _ => Refusal(result),
    };

    /// <summary>A write that was not applied, as its problem answer.</summary>
    public static ProblemHttpResult Refusal<T>(WriteResult<T> result) => result.Status switch
    {
        WriteStatus.Conflict => Problems.Conflict(result.Reason!, result.Detail!),
        WriteStatus.NotFound => Problems.NotFound(result.Detail!),
        _ => Problems.Validation(result.Field!, result.Detail!),
    };
}

/// <summary>Members: enrollment, summary, statement, erasure.</summary>
public static class MembersApi
{
    public static RouteGroupBuilder MapMembersApiV1(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/programs/{programId}/members/{memberId}");
        group.MapPost("", Enroll).RequireRole(Roles.Ingest).AcceptsJsonBodies().DocumentsBody<EnrollBody>(optional: true).WithName("Enroll");
        group.MapGet("", GetSummary).RequireRole(Roles.Checkout).WithName("GetMember");
        // limit and before are bound as text: the handler words its own errors for them.
        group.MapGet("/ledger", GetLedger).RequireRole(Roles.Checkout).WithName("GetLedger")
            .DocumentsQuery("limit", JsonSchemaType.Integer, "entries per page, 1 to 1000 (default 100)")
            .DocumentsQuery("before", JsonSchemaType.Integer, "a seq: the page of entries before it (the previous page's next)");
        group.MapDelete("", Erase).RequireRole(Roles.Admin).WithName("EraseMember");
        return group;
    }

    private static async Task<Results<Created<MemberSummary>, Ok<MemberSummary>, ProblemHttpResult>> Enroll(string programId, string memberId, HttpRequest request, MemberRoute route)
    {
        var (grain, error) = await route.Resolve(programId, memberId);
        if (error is not null) return error;
        var (body, bodyError) = await MemberRoute.ReadObject(request, optional: true);
        if (bodyError is not null) return bodyError;
        string? birthday = null;
        var forgetBirthday = false;
        if (body is not null)
        {
            body.RejectUnknown("birthday");
            birthday = body.String("birthday");
            forgetBirthday = body.IsNull("birthday");
            if (birthday is not null && !MemberRules.IsBirthday(birthday)) body.Error("birthday", "must be a date as MM-DD, e.g. 03-15");
            if (body.HasErrors) return Invalid(body);
        }
        var result = await grain!.Enroll(new EnrollRequest(birthday, forgetBirthday));
        if (result.Status is not (WriteStatus.Applied or WriteStatus.Replayed)) return MemberRoute.Refusal(result);
        return result.Value!.Created
            ? TypedResults.Created($"/v1/programs/{programId}/members/{memberId}", result.Value.Summary)
            : TypedResults.Ok(result.Value.Summary);
    }

    private static async Task<Results<Ok<MemberSummary>, ProblemHttpResult>> GetSummary(string programId, string memberId, MemberRoute route)
    {
        var (grain, error) = await route.Resolve(programId, memberId);
        if (error is not null) return error;
        var summary = await grain!.GetSummary();
        return summary is null ? Problems.NotFound($"member '{memberId}' not found in program '{programId}'") : TypedResults.Ok(summary);
    }

    private static async Task<Results<Ok<LedgerResponse>, ProblemHttpResult>> GetLedger(string programId, string memberId, string? limit, string? before, MemberRoute route)
    {
        var (grain, error) = await route.Resolve(programId, memberId);
        if (error is not null) return error;
        var errors = new Dictionary<string, string[]>();
        var pageSize = 100;
        // Digits only: no sign, no spaces, no trailing newline.
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize < 1 || pageSize > 1000)) errors["limit"] = ["must be a whole number from 1 to 1000"];
        long? beforeSeq = null;
        if (before is not null)
        {
            if (long.TryParse(before, NumberStyles.None, CultureInfo.InvariantCulture, out var b) && b >= 1) beforeSeq = b;
            else errors["before"] = ["must be a seq, a whole number of at least 1"];
        }
        if (errors.Count > 0) return Problems.Validation(errors);

        var page = await grain!.GetLedger(pageSize, beforeSeq);
        if (page is null) return Problems.NotFound($"member '{memberId}' not found in program '{programId}'");
        return TypedResults.Ok(new LedgerResponse(page.Entries.Select(View).ToList(), page.Next));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Erase(string programId, string memberId, MemberRoute route)
    {
        var (grain, error) = await route.Resolve(programId, memberId);
        if (error is not null) return error;
        await grain!.Erase();
        return TypedResults.NoContent();
    }

    internal static ProblemHttpResult Invalid(JsonBody body) => Problems.Validation(body.Errors);

    /// <summary>The statement line of an entry: the contract's fields plus what explains it.</summary>
    public static LedgerEntryView View(LedgerEntry e)
    {
        var d = new JsonObject();
        void Set(string name, JsonNode? value)
        {
            if (value is not null) d[name] = value;
        }
        Set("type", e.EventType);
        Set("orderId", e.OrderId);
        Set("amount", e.Amount);
        Set("multiplier", e.Kind == LedgerKinds.Earn && e.Reason is ['x', ..] x ? x : null);
        Set("pointsPerUnit", e.Multiplier);
        Set("growthPerUnit", e.GrowthFactor);
        Set("growthBase", e.GrowthBase);
        Set("pointsBase", e.PointsBase);
        if (e.Capped is { } capped)
        {
            d["capped"] = new JsonObject { ["growth"] = e.GrowthCut, ["points"] = e.PointsCut, ["by"] = capped };
        }
        if (e.Streak != 0) Set("streak", e.Streak);
        if (e.Kind == LedgerKinds.Earn && e.Reason is ['s', ..] streakOf) Set("reward", streakOf);
        if (e.Runs is { Count: > 0 } runs)
        {
            var arr = new JsonArray();
            foreach (var run in runs) arr.Add(new JsonObject { ["rule"] = run.Rule, ["from"] = run.From, ["days"] = run.Days, ["perDay"] = run.PerDay });
            d["runs"] = arr;
        }
        if (e.DebtPaid != 0) Set("debtPaid", e.DebtPaid);
        if (e.DebtAdded != 0) Set("debtAdded", e.DebtAdded);
        Set("expiresAt", e.BucketExpiresAt);
        Set("bucketSeq", e.BucketSeq);
        Set("note", e.Note);
        if (e.Kind == LedgerKinds.Redeem) Set("reason", e.Reason);
        if (e.Draws is { Count: > 0 } draws)
        {
            var arr = new JsonArray();
            foreach (var draw in draws) arr.Add(new JsonObject { ["bucketSeq"] = draw.BucketSeq, ["points"] = draw.Points, ["expiresAt"] = draw.ExpiresAt });
            d["buckets"] = arr;
        }
        if (e.Counters is { Count: > 0 } counters)
        {
            var obj = new JsonObject();
            foreach (var (k, v) in counters) obj[k] = v;
            d["counters"] = obj;
        }
        Set("from", e.TierFrom);
        Set("to", e.TierTo);
        if (e.Kind == LedgerKinds.Tier) d["validUntil"] = e.TierValidUntil is { } vu ? JsonValue.Create(vu) : null;
        if (e.TierSince is { } since) d["since"] = JsonValue.Create(since); // a rewritten period: its start, before the entry's date
        Set("plan", e.Plan);
        Set("action", e.PlanAction);
        Set("term", e.PlanTerm);
        Set("startsAt", e.PlanStartsAt);
        if (e.Kind == LedgerKinds.Subscription) Set("planExpiresAt", e.PlanExpiresAt);
        Set("code", e.BenefitCode);
        if (e.Kind == LedgerKinds.BenefitUse) Set("period", e.Period);
        if (e.Birthday == "") d["birthday"] = null; // removed
        else Set("birthday", e.Birthday);
        return new LedgerEntryView(e.Seq, e.OccurredAt, e.RecordedAt, e.Kind, e.EventId, e.Points, e.Growth, d);
    }
}
