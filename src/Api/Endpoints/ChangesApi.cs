using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Api.Http;
using Orleans.Membership.Api.Operations;
using Orleans.Membership.Domain;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Grains;

namespace Orleans.Membership.Api.Endpoints;

/// <summary>Member changes of a program (admin): the live feed as server-sent events, webhooks, dead letters.</summary>
public static class ChangesApi
{
    public const int MaxWebhooks = 10;

    public static RouteGroupBuilder MapChangesApiV1(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/programs/{programId}").RequireRole(Roles.Admin);
        group.MapGet("/changes", Feed).Produces(StatusCodes.Status200OK, contentType: "text/event-stream").WithName("ReadChanges")
            .DocumentsHeader("Last-Event-ID", JsonSchemaType.Integer, "resume after this event id (what an EventSource sends when it reconnects); wins over after")
            .DocumentsQuery("after", JsonSchemaType.Integer, "resume after this event id of the feed, while the feed still holds it");
        group.MapPut("/webhooks", PutWebhooks).AcceptsJsonBodies().DocumentsBody<WebhooksBody>().WithName("PutWebhooks");
        group.MapGet("/webhooks", GetWebhooks).WithName("GetWebhooks");
        group.MapGet("/webhooks/dead-letters", GetDeadLetters).WithName("GetDeadLetters");
        group.MapPost("/webhooks/dead-letters/replay", Replay).AcceptsJsonBodies().WithName("ReplayDeadLetters");
        group.MapDelete("/webhooks/dead-letters", Discard).WithName("DiscardDeadLetters")
            .DocumentsQuery("url", JsonSchemaType.String, "discard only the dead letters of this webhook URL (exact); leave it out to discard all");
        return group;
    }

    /// <summary>
    /// Server-sent events: <c>id</c> is the change's place in the program's feed, <c>event</c> its type,
    /// <c>data</c> its JSON. Resumes after <c>Last-Event-ID</c> (or <c>?after=</c>) while the feed still holds it.
    /// </summary>
    private static async Task Feed(string programId, HttpContext context, IGrainFactory grains, MemberRoute route)
    {
        if (await route.CheckProgram(programId) is { } problem)
        {
            await problem.ExecuteAsync(context);
            return;
        }
        var resume = context.Request.Headers["Last-Event-ID"].FirstOrDefault() ?? context.Request.Query["after"].FirstOrDefault();
        long after = 0;
        if (resume is not null && (!long.TryParse(resume, NumberStyles.None, CultureInfo.InvariantCulture, out after)))
        {
            await Problems.Validation("after", "must be a whole number (an event id of this feed)").ExecuteAsync(context);
            return;
        }

        var feed = grains.GetGrain<IChangeFeedGrain>(programId);
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // HEAD: the headers only; the feed itself never ends.
        if (HttpMethods.IsHead(context.Request.Method)) return;
        await response.Body.FlushAsync(context.RequestAborted);
        var aborted = context.RequestAborted;
        try
        {
            while (!aborted.IsCancellationRequested)
            {
                var page = await feed.Wait(after, 500, TimeSpan.FromSeconds(15)).WaitAsync(aborted);
                var text = new StringBuilder();
                if (page.Items.Count == 0) text.Append(": keep-alive\n\n");
                foreach (var item in page.Items)
                {
                    text.Append("id: ").Append(item.Seq.ToString(CultureInfo.InvariantCulture)).Append('\n')
                        .Append("event: ").Append(item.Change.Type).Append('\n')
                        .Append("data: ").Append(JsonSerializer.Serialize(item.Change, DomainJson.Default.MemberChange)).Append("\n\n");
                    after = item.Seq;
                }
                await response.WriteAsync(text.ToString(), aborted);
                await response.Body.FlushAsync(aborted);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The operator closed the feed.
        }
    }

    private static async Task<Results<Ok<WebhooksResponse>, ProblemHttpResult>> PutWebhooks(string programId, HttpRequest request, IGrainFactory grains, MemberRoute route, WebhookAddresses addresses)
    {
        if (await route.CheckProgram(programId) is { } problem) return problem;
        var (body, bodyError) = await MemberRoute.ReadObject(request);
        if (bodyError is not null) return bodyError;
        body!.RejectUnknown("webhooks");
        var targets = new List<WebhookTarget>();
        if (!body.Element.TryGetProperty("webhooks", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            body.Error("webhooks", "required: an array of {\"url\", \"secret\"} (empty to remove them all)");
        }
        else if (list.GetArrayLength() > MaxWebhooks)
        {
            body.Error("webhooks", $"must hold at most {MaxWebhooks} webhooks");
        }
        else
        {
            var i = 0;
            foreach (var element in list.EnumerateArray())
            {
                var path = $"webhooks[{i++}]";
                if (element.ValueKind != JsonValueKind.Object)
                {
                    body.Error(path, "must be an object {\"url\", \"secret\"}");
                    continue;
                }
                var hook = new JsonBody(element, path, body.Errors);
                hook.RejectUnknown("url", "secret");
                var url = hook.String("url", required: true);
                var secret = hook.String("secret", required: true);
                if (url is not null && addresses.UrlProblem(url) is { } urlProblem)
                {
                    hook.Error("url", urlProblem);
                }
                else if (url is not null && targets.Any(t => t.Url == url))
                {
                    hook.Error("url", "is listed twice");
                }
                if (secret is not null && WebhookSender.SecretProblem(secret) is { } secretProblem) hook.Error("secret", secretProblem);
                if (url is not null && secret is not null) targets.Add(new WebhookTarget(url, secret));
            }
        }
        if (body.HasErrors) return MembersApi.Invalid(body);
        await grains.GetGrain<IChangeFeedGrain>(programId).SetWebhooks([.. targets]);
        return TypedResults.Ok(new WebhooksResponse(targets.Select(t => new WebhookView(t.Url)).ToList()));
    }

    private static async Task<Results<Ok<WebhooksResponse>, ProblemHttpResult>> GetWebhooks(string programId, IGrainFactory grains, MemberRoute route)
    {
        if (await route.CheckProgram(programId) is { } problem) return problem;
        var targets = await grains.GetGrain<IChangeFeedGrain>(programId).GetWebhooks();
        // Secrets are write-only.
        return TypedResults.Ok(new WebhooksResponse(targets.Select(t => new WebhookView(t.Url)).ToList()));
    }

    private static async Task<Results<Ok<DeadLettersResponse>, ProblemHttpResult>> GetDeadLetters(string programId, IGrainFactory grains, MemberRoute route)
    {
        if (await route.CheckProgram(programId) is { } problem) return problem;
        var letters = await grains.GetGrain<IChangeFeedGrain>(programId).GetDeadLetters();
        return TypedResults.Ok(new DeadLettersResponse(letters));
    }

    private static async Task<Results<Ok<ReplayResponse>, ProblemHttpResult>> Replay(string programId, IGrainFactory grains, MemberRoute route)
    {
        if (await route.CheckProgram(programId) is { } problem) return problem;
        var replay = await grains.GetGrain<IChangeFeedGrain>(programId).ReplayDeadLetters();
        return TypedResults.Ok(new ReplayResponse(replay.Replayed, replay.Kept, replay.Kept > 0 ? UrlNotRegistered : null, replay.KeptUrls));
    }

    /// <summary>Why a replay kept letters: their URL is no longer among the program's webhooks.</summary>
    public const string UrlNotRegistered = "url-not-registered";

    /// <summary>Discards dead letters deliberately: all of them, or those of one URL (<c>?url=</c>, exact).</summary>
    private static async Task<Results<Ok<DiscardResponse>, ProblemHttpResult>> Discard(string programId, HttpRequest request, IGrainFactory grains, MemberRoute route)
    {
        if (await route.CheckProgram(programId) is { } problem) return problem;
        var urls = request.Query["url"];
        if (urls.Count > 1) return Problems.Validation("url", "give at most one url");
        if (urls.Count == 1 && string.IsNullOrEmpty(urls[0])) return Problems.Validation("url", "must not be empty (leave it out to discard every dead letter)");
        var removed = await grains.GetGrain<IChangeFeedGrain>(programId).DiscardDeadLetters(urls.Count == 1 ? urls[0] : null);
        return TypedResults.Ok(new DiscardResponse(removed));
    }
}
