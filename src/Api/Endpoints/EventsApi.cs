using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Api.Http;
using Orleans.Membership.Api.Operations;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Grains;

namespace Orleans.Membership.Api.Endpoints;

/// <summary>Scoring events from producers: one event or a batch of up to <see cref="MaxBatch"/>.</summary>
public static class EventsApi
{
    public const int MaxBatch = 1000;

    /// <summary>
    /// How many of a batch's member calls are in flight at once; the next ones start when these answered.
    /// A whole festival batch started at once queues a turn per member on the silo's workers, and benefit
    /// checks arriving then wait behind all of them.
    /// </summary>
    public const int CallsAtOnce = 64;

    public static RouteGroupBuilder MapEventsApiV1(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/programs/{programId}/events").RequireRole(Roles.Ingest);
        group.MapPost("", Ingest).AcceptsJsonBodies().DocumentsBody<EventBatchBody>().Conflicts("id-reused").WithName("SendEvents");
        return group;
    }

    private static async Task<Results<Ok<EventsResponse>, ProblemHttpResult>> Ingest(string programId, HttpRequest request, IGrainFactory grains, ProgramCatalog programs, TimeProvider clock, MembershipMetrics metrics)
    {
        if (!CallerIds.IsValid(programId)) return Problems.Validation("programId", CallerIds.Rule);
        var program = await programs.GetAsync(programId);
        if (program is null) return Problems.NotFound($"program '{programId}' not found");

        var (doc, bodyError) = await RequestBodies.ReadJsonAsync(request);
        if (bodyError is not null) return bodyError;
        var root = doc!.RootElement;
        if (root.ValueKind != JsonValueKind.Object) return Problems.Validation("$", "the body must be an event object or {\"events\":[...]}");

        List<JsonElement> items;
        string prefix;
        if (root.TryGetProperty("events", out var array))
        {
            if (array.ValueKind != JsonValueKind.Array) return Problems.Validation("events", "must be an array of events");
            if (array.GetArrayLength() > MaxBatch) return Problems.Validation("events", $"must hold at most {MaxBatch} events, not {array.GetArrayLength()}");
            foreach (var p in root.EnumerateObject())
            {
                if (p.Name != "events") return Problems.Validation(p.Name, "unknown field (a batch is {\"events\":[...]})");
            }
            items = array.EnumerateArray().ToList();
            prefix = "events";
        }
        else
        {
            items = [root];
            prefix = "";
        }

        // Validate each event alone; a bad one is rejected and the others still apply.
        var now = clock.GetUtcNow();
        var rejected = new List<RejectedEvent>();
        // The valid events grouped by member, without an object per member beyond its call's argument: the
        // batch lives until its slowest call answers, and whatever it holds then outlives young collections.
        var events = new ScoringEvent?[items.Count];
        var groupOf = new int[items.Count];
        var groups = new Dictionary<string, int>(StringComparer.Ordinal);
        var sizes = new List<int>();
        for (var i = 0; i < items.Count; i++)
        {
            groupOf[i] = -1;
            if (ScoringEventJson.Parse(items[i], prefix, i, out var memberId, out var ev, out var eventId) is { } problems)
            {
                rejected.Add(Rejection(i, eventId, problems, null));
                metrics.Event(program, null, EventStatus.Rejected);
                continue;
            }
            if (EventValidation.ValidateBeforeMember(program, ev!, now) is { } invalid)
            {
                var field = prefix.Length == 0 ? invalid.Field : $"{prefix}[{i}].{invalid.Field}";
                rejected.Add(Rejection(i, eventId, new() { [field] = [invalid.Message] }, null));
                metrics.Event(program, ev!.Type, EventStatus.Rejected);
                continue;
            }
            if (!groups.TryGetValue(memberId!, out var group))
            {
                groups[memberId!] = group = sizes.Count;
                sizes.Add(0);
            }
            events[i] = ev;
            groupOf[i] = group;
            sizes[group]++;
        }

        // A member's events apply in array order, in one grain call; members run in parallel, CallsAtOnce at a time.
        var batches = new ScoringEvent[groups.Count][];
        var indexes = new int[groups.Count][];
        for (var g = 0; g < batches.Length; g++)
        {
            batches[g] = new ScoringEvent[sizes[g]];
            indexes[g] = new int[sizes[g]];
            sizes[g] = 0;
        }
        for (var i = 0; i < events.Length; i++)
        {
            var g = groupOf[i];
            if (g < 0) continue;
            indexes[g][sizes[g]] = i;
            batches[g][sizes[g]++] = events[i]!;
        }
        var calls = new Task<EventOutcome[]>[groups.Count];
        var members = new string[groups.Count];
        foreach (var (memberId, g) in groups) members[g] = memberId;
        for (var from = 0; from < calls.Length; from += CallsAtOnce)
        {
            var to = Math.Min(calls.Length, from + CallsAtOnce);
            for (var g = from; g < to; g++) calls[g] = grains.Member(MemberKeys.Of(programId, members[g])).ApplyEvents(batches[g]);
            await Task.WhenAll(new ArraySegment<Task<EventOutcome[]>>(calls, from, to - from));
        }

        var accepted = 0;
        var duplicates = 0;
        for (var g = 0; g < calls.Length; g++)
        {
            var outcomes = calls[g].Result;
            for (var j = 0; j < outcomes.Length; j++)
            {
                var outcome = outcomes[j];
                var index = indexes[g][j];
                metrics.Event(program, events[index]!.Type, outcome.Status);
                switch (outcome.Status)
                {
                    case EventStatus.Accepted: accepted++; break;
                    case EventStatus.Duplicate: duplicates++; break;
                    default:
                        var path = prefix.Length == 0 ? "" : $"{prefix}[{index}]";
                        var field = outcome.Field is null ? null : path.Length == 0 ? outcome.Field : $"{path}.{outcome.Field}";
                        rejected.Add(field is null
                            ? new RejectedEvent(index, events[index]!.EventId, outcome.Error!, null, outcome.Reason)
                            : Rejection(index, events[index]!.EventId, new() { [field] = [outcome.Error!] }, outcome.Reason));
                        break;
                }
            }
        }
        rejected.Sort((a, b) => a.Index.CompareTo(b.Index));
        // An event sent alone is a write like any other: its id used with another body is a 409 (in a batch, a rejection).
        if (prefix.Length == 0 && rejected is [{ Reason: "id-reused" } reused])
        {
            return Problems.Conflict("id-reused", reused.Error);
        }
        return TypedResults.Ok(new EventsResponse(accepted, duplicates, rejected));
    }

    /// <summary>An event refused for its fields: <c>error</c> spells every problem with its path, <c>field</c> is the first path.</summary>
    private static RejectedEvent Rejection(int index, string? eventId, Dictionary<string, string[]> errors, string? reason)
        => new(index, eventId, ScoringEventJson.Describe(errors), errors.Keys.First(), reason, errors);
}
