using Orleans.Membership.Abstractions;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Api.Http;

public sealed record HealthResponse(string Status);

/// <summary>
/// What an operator (or a load tester) reads to see whether the runtime itself is the bottleneck.
/// </summary>
public sealed record RuntimeDiagnostics(
    int ProcessorCount, bool ServerGc, string GcLatencyMode, long WorkingSetBytes, long HeapBytes, long AllocatedBytes,
    int Gen0Collections, int Gen1Collections, int Gen2Collections, double TotalGcPauseMs, double GcPauseTimePercent,
    int ThreadPoolThreads, long ThreadPoolQueueLength, long ThreadPoolCompletedWorkItems, IReadOnlyList<GcView> LastGcs)
{
    public static RuntimeDiagnostics Now()
    {
        var info = GC.GetGCMemoryInfo();
        return new RuntimeDiagnostics(
            Environment.ProcessorCount, System.Runtime.GCSettings.IsServerGC, System.Runtime.GCSettings.LatencyMode.ToString(),
            Environment.WorkingSet, GC.GetTotalMemory(false), GC.GetTotalAllocatedBytes(), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
            GC.GetTotalPauseDuration().TotalMilliseconds, info.PauseTimePercentage,
            ThreadPool.ThreadCount, ThreadPool.PendingWorkItemCount, ThreadPool.CompletedWorkItemCount,
            [GcView.Last(GCKind.Ephemeral), GcView.Last(GCKind.FullBlocking), GcView.Last(GCKind.Background)]);
    }
}

/// <summary>
/// The last collection of one kind: what a pause cost and why (promoted bytes are what it copied), and the
/// heap it left (after a full blocking one: the live heap).
/// </summary>
public sealed record GcView(string Kind, long Index, int Generation, double PauseMs, long PromotedBytes, long HeapSizeBytes, bool Compacted, bool Concurrent)
{
    public static GcView Last(GCKind kind)
    {
        var info = GC.GetGCMemoryInfo(kind);
        double pause = 0;
        foreach (var p in info.PauseDurations) pause += p.TotalMilliseconds;
        return new GcView(kind.ToString(), info.Index, info.Generation, pause, info.PromotedBytes, info.HeapSizeBytes, info.Compacted, info.Concurrent);
    }
}
public sealed record WebhookView(string Url);
public sealed record WebhooksResponse(IReadOnlyList<WebhookView> Webhooks);
public sealed record DeadLettersResponse(IReadOnlyList<Orleans.Membership.Abstractions.DeadLetter> DeadLetters);
/// <summary><c>keptReason</c> is <c>url-not-registered</c> when letters were kept (their URLs in <c>keptUrls</c>), else null.</summary>
public sealed record ReplayResponse(int Replayed, int Kept, string? KeptReason, IReadOnlyList<string> KeptUrls);
public sealed record DiscardResponse(int Removed);
/// <summary>Stream ingestion on this node; the held figures are null where this node pulls no memory queues.</summary>
public sealed record StreamDiagnostics(long Accepted, long Duplicates, long Rejected, long? HeldBatches, long? PeakHeldPerQueue, long? TimesPressured, long? DroppedUnconsumed)
{
    public static StreamDiagnostics Of(Orleans.Membership.Grains.StreamIngestStats ingest, Orleans.Membership.Grains.StreamBackpressureStats? held)
        => new(ingest.Accepted, ingest.Duplicates, ingest.Rejected, held?.Held, held?.PeakHeldPerQueue, held?.Pressured, held?.DroppedUnconsumed);
}
public sealed record ProgramVersion(string ProgramId, int Version);
/// <summary><c>GET /v1/programs</c>: every program, by id.</summary>
public sealed record ProgramList(IReadOnlyList<ProgramListing> Programs);
/// <summary>A rejected event: <see cref="Error"/> and <see cref="Field"/> name its first problem, <see cref="Errors"/> every problem of its fields by path (absent when it was refused for no field).</summary>
public sealed record RejectedEvent(int Index, string? EventId, string Error, string? Field, string? Reason,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string[]>? Errors = null);
public sealed record EventsResponse(int Accepted, int Duplicates, IReadOnlyList<RejectedEvent> Rejected);
public sealed record BenefitsResponse(IReadOnlyList<BenefitCheck> Benefits);
public sealed record PlansResponse(string ProgramId, string MemberId, string Currency, IReadOnlyList<PlanOffer> Plans);
public sealed record LedgerEntryView(long Seq, DateTimeOffset OccurredAt, DateTimeOffset RecordedAt, string Kind, string? EventId, long Points, long Growth, JsonObject Detail);
public sealed record LedgerResponse(IReadOnlyList<LedgerEntryView> Entries, long? Next);

/// <summary>Source-generated JSON for the API's own shapes; the domain's come from <see cref="Domain.DomainJson"/>.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(RuntimeDiagnostics))]
[JsonSerializable(typeof(StreamDiagnostics))]
[JsonSerializable(typeof(WebhooksResponse))]
[JsonSerializable(typeof(DeadLettersResponse))]
[JsonSerializable(typeof(ReplayResponse))]
[JsonSerializable(typeof(DiscardResponse))]
[JsonSerializable(typeof(ProgramVersion))]
[JsonSerializable(typeof(ProgramList))]
[JsonSerializable(typeof(EventsResponse))]
[JsonSerializable(typeof(BenefitsResponse))]
[JsonSerializable(typeof(PlansResponse))]
[JsonSerializable(typeof(LedgerResponse))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(BenefitCheck))]
[JsonSerializable(typeof(RedemptionResult))]
[JsonSerializable(typeof(SubscriptionView))]
[JsonSerializable(typeof(MemberSummary))]
[JsonSerializable(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails))]
[JsonSerializable(typeof(Microsoft.AspNetCore.Http.HttpValidationProblemDetails))]
public sealed partial class ApiJson : JsonSerializerContext;
