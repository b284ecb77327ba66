using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Orleans.Membership.Client;

/// <summary>The operation of /openapi/v1.json a client method calls (ClientDriftTests holds the two together).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ApiOperationAttribute(string method, string path) : Attribute
{
    public string Method { get; } = method;
    public string Path { get; } = path;
    /// <summary>The success body's record when the method returns something else (null: the method's own return type).</summary>
    public Type? Body { get; init; }
}

/// <summary>
/// A typed client of the v1 HTTP API. Give it an <see cref="HttpClient"/> whose base address is the node
/// (or API process), and the API key when keys are configured. Answers other than success throw
/// <see cref="MembershipApiException"/>, except the reads whose 404 means "never seen", which return null.
/// </summary>
public sealed class MembershipClient
{
    public const string ApiKeyHeader = "X-Api-Key";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly HttpClient _http;
    private readonly string? _apiKey;

    public MembershipClient(HttpClient http, string? apiKey = null)
    {
        ArgumentNullException.ThrowIfNull(http.BaseAddress, "http.BaseAddress");
        _http = http;
        _apiKey = apiKey;
    }

    private static string P(string programId) => "/v1/programs/" + Uri.EscapeDataString(programId);
    private static string M(string programId, string memberId) => P(programId) + "/members/" + Uri.EscapeDataString(memberId);

    // Health and diagnostics

    [ApiOperation("GET", "/healthz")]
    public Task<HealthResponse> HealthAsync(CancellationToken cancellationToken = default)
        => Send<HealthResponse>(HttpMethod.Get, "/healthz", null, cancellationToken);

    /// <summary>The runtime's GC, heap and thread pool figures (admin).</summary>
    [ApiOperation("GET", "/v1/diagnostics/runtime")]
    public Task<RuntimeDiagnostics> GetRuntimeDiagnosticsAsync(CancellationToken cancellationToken = default)
        => Send<RuntimeDiagnostics>(HttpMethod.Get, "/v1/diagnostics/runtime", null, cancellationToken);

    [ApiOperation("GET", "/v1/diagnostics/streams")]
    public Task<StreamDiagnostics> GetStreamDiagnosticsAsync(CancellationToken cancellationToken = default)
        => Send<StreamDiagnostics>(HttpMethod.Get, "/v1/diagnostics/streams", null, cancellationToken);

    // Programs

    /// <summary>Creates or changes a program from its definition (JSON, docs/programs.md); a new version when it changed.</summary>
    [ApiOperation("PUT", "/v1/programs/{programId}")]
    public Task<ProgramVersion> PutProgramAsync(string programId, string definitionJson, CancellationToken cancellationToken = default)
        => Send<ProgramVersion>(HttpMethod.Put, P(programId), new StringContent(definitionJson, Encoding.UTF8, "application/json"), cancellationToken);

    /// <summary>Every program (id, version, name), by id.</summary>
    [ApiOperation("GET", "/v1/programs")]
    public Task<ProgramList> ListProgramsAsync(CancellationToken cancellationToken = default)
        => Send<ProgramList>(HttpMethod.Get, "/v1/programs", null, cancellationToken);

    /// <summary>The definition with its <c>id</c> and <c>version</c>; null for an unknown program.</summary>
    [ApiOperation("GET", "/v1/programs/{programId}")]
    public Task<JsonObject?> GetProgramAsync(string programId, CancellationToken cancellationToken = default)
        => SendOrNull<JsonObject>(HttpMethod.Get, P(programId), cancellationToken);

    // Members

    [ApiOperation("POST", "/v1/programs/{programId}/members/{memberId}", Body = typeof(MemberSummary))]
    public async Task<Enrollment> EnrollAsync(string programId, string memberId, string? birthday = null, CancellationToken cancellationToken = default)
    {
        using var response = await Call(HttpMethod.Post, M(programId, memberId), JsonContent.Create(new EnrollBody(birthday), options: Json), cancellationToken);
        return new Enrollment(response.StatusCode == HttpStatusCode.Created, await Read<MemberSummary>(response, cancellationToken));
    }

    /// <summary>The member's summary; null for a member never seen.</summary>
    [ApiOperation("GET", "/v1/programs/{programId}/members/{memberId}")]
    public Task<MemberSummary?> GetMemberAsync(string programId, string memberId, CancellationToken cancellationToken = default)
        => SendOrNull<MemberSummary>(HttpMethod.Get, M(programId, memberId), cancellationToken);

    /// <summary>A page of the statement, newest first (<paramref name="limit"/> 1-1000, <paramref name="before"/> a seq); null for a member never seen.</summary>
    [ApiOperation("GET", "/v1/programs/{programId}/members/{memberId}/ledger")]
    public Task<LedgerResponse?> GetLedgerAsync(string programId, string memberId, int? limit = null, long? before = null, CancellationToken cancellationToken = default)
    {
        var query = new List<string>();
        if (limit is { } l) query.Add($"limit={l}");
        if (before is { } b) query.Add($"before={b}");
        return SendOrNull<LedgerResponse>(HttpMethod.Get, M(programId, memberId) + "/ledger" + (query.Count == 0 ? "" : "?" + string.Join("&", query)), cancellationToken);
    }

    /// <summary>Erases the member's personal data and history (admin).</summary>
    [ApiOperation("DELETE", "/v1/programs/{programId}/members/{memberId}")]
    public async Task EraseMemberAsync(string programId, string memberId, CancellationToken cancellationToken = default)
    {
        using var _ = await Call(HttpMethod.Delete, M(programId, memberId), null, cancellationToken);
    }

    // Benefits

    /// <summary>Each plan's terms at the price this member pays now; a member never seen gets a guest's prices.</summary>
    [ApiOperation("GET", "/v1/programs/{programId}/members/{memberId}/plans")]
    public Task<PlansResponse> GetPlansAsync(string programId, string memberId, CancellationToken cancellationToken = default)
        => Send<PlansResponse>(HttpMethod.Get, M(programId, memberId) + "/plans", null, cancellationToken);

    [ApiOperation("GET", "/v1/programs/{programId}/members/{memberId}/benefits")]
    public Task<BenefitsResponse> CheckBenefitsAsync(string programId, string memberId, CancellationToken cancellationToken = default)
        => Send<BenefitsResponse>(HttpMethod.Get, M(programId, memberId) + "/benefits", null, cancellationToken);

    [ApiOperation("GET", "/v1/programs/{programId}/members/{memberId}/benefits/{code}")]
    public Task<BenefitCheck> CheckBenefitAsync(string programId, string memberId, string code, CancellationToken cancellationToken = default)
        => Send<BenefitCheck>(HttpMethod.Get, M(programId, memberId) + "/benefits/" + Uri.EscapeDataString(code), null, cancellationToken);

    /// <summary>Uses a benefit once (idempotent by <paramref name="useId"/>); the check after the use. 409 reasons: quota, tier, window, id-reused.</summary>
    [ApiOperation("POST", "/v1/programs/{programId}/members/{memberId}/benefits/{code}/uses")]
    public Task<BenefitCheck> UseBenefitAsync(string programId, string memberId, string code, string useId, string? orderId = null, CancellationToken cancellationToken = default)
        => Send<BenefitCheck>(HttpMethod.Post, M(programId, memberId) + "/benefits/" + Uri.EscapeDataString(code) + "/uses", JsonContent.Create(new BenefitUseBody(useId, orderId), options: Json), cancellationToken);

    // Points

    /// <summary>Redeems points, soonest-expiring buckets first (idempotent by <paramref name="redemptionId"/>). 409 reasons: balance, id-reused.</summary>
    [ApiOperation("POST", "/v1/programs/{programId}/members/{memberId}/points/redemptions")]
    public Task<RedemptionResult> RedeemPointsAsync(string programId, string memberId, string redemptionId, long points, string? reason = null, CancellationToken cancellationToken = default)
        => Send<RedemptionResult>(HttpMethod.Post, M(programId, memberId) + "/points/redemptions", JsonContent.Create(new RedemptionBody(redemptionId, points, reason), options: Json), cancellationToken);

    // Paid membership

    /// <summary>A purchase, trial or cancel of a plan (admin). 409 reasons: trial-used, active, not-active, no-trial, id-reused.</summary>
    [ApiOperation("POST", "/v1/programs/{programId}/members/{memberId}/subscription")]
    public Task<SubscriptionView> ChangeSubscriptionAsync(string programId, string memberId, SubscriptionBody change, CancellationToken cancellationToken = default)
        => Send<SubscriptionView>(HttpMethod.Post, M(programId, memberId) + "/subscription", JsonContent.Create(change, options: Json), cancellationToken);

    // Events

    /// <summary>Sends up to 1,000 events; answers after every accepted event is durable. Rejected events are listed, not thrown.</summary>
    [ApiOperation("POST", "/v1/programs/{programId}/events")]
    public Task<EventsResponse> SendEventsAsync(string programId, IEnumerable<EventBody> events, CancellationToken cancellationToken = default)
        => Send<EventsResponse>(HttpMethod.Post, P(programId) + "/events", JsonContent.Create(new EventBatchBody([.. events]), options: Json), cancellationToken);

    // Changes and webhooks (admin)

    /// <summary>The program's live changes feed from after <paramref name="after"/> (a notice's id), until cancelled.</summary>
    [ApiOperation("GET", "/v1/programs/{programId}/changes")]
    public async IAsyncEnumerable<ChangeNotice> ReadChangesAsync(string programId, long after = 0, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var request = Request(HttpMethod.Get, P(programId) + $"/changes?after={after}", null);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await EnsureSuccess(response, cancellationToken);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        long? id = null;
        string? type = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("id: ", StringComparison.Ordinal)) id = long.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture);
            else if (line.StartsWith("event: ", StringComparison.Ordinal)) type = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && id is { } seq && type is not null)
            {
                yield return new ChangeNotice(seq, type, JsonNode.Parse(line[6..])!.AsObject());
                id = null;
                type = null;
            }
        }
    }

    /// <summary>Replaces the program's webhooks (an empty list removes them all).</summary>
    [ApiOperation("PUT", "/v1/programs/{programId}/webhooks")]
    public Task<WebhooksResponse> PutWebhooksAsync(string programId, IEnumerable<WebhookBody> webhooks, CancellationToken cancellationToken = default)
        => Send<WebhooksResponse>(HttpMethod.Put, P(programId) + "/webhooks", JsonContent.Create(new WebhooksBody([.. webhooks]), options: Json), cancellationToken);

    [ApiOperation("GET", "/v1/programs/{programId}/webhooks")]
    public Task<WebhooksResponse> GetWebhooksAsync(string programId, CancellationToken cancellationToken = default)
        => Send<WebhooksResponse>(HttpMethod.Get, P(programId) + "/webhooks", null, cancellationToken);

    [ApiOperation("GET", "/v1/programs/{programId}/webhooks/dead-letters")]
    public Task<DeadLettersResponse> GetDeadLettersAsync(string programId, CancellationToken cancellationToken = default)
        => Send<DeadLettersResponse>(HttpMethod.Get, P(programId) + "/webhooks/dead-letters", null, cancellationToken);

    [ApiOperation("POST", "/v1/programs/{programId}/webhooks/dead-letters/replay")]
    public Task<ReplayResponse> ReplayDeadLettersAsync(string programId, CancellationToken cancellationToken = default)
        => Send<ReplayResponse>(HttpMethod.Post, P(programId) + "/webhooks/dead-letters/replay", null, cancellationToken);

    /// <summary>Discards the program's dead letters for good: all of them, or those of <paramref name="url"/> only.</summary>
    [ApiOperation("DELETE", "/v1/programs/{programId}/webhooks/dead-letters")]
    public Task<DiscardResponse> DiscardDeadLettersAsync(string programId, string? url = null, CancellationToken cancellationToken = default)
        => Send<DiscardResponse>(HttpMethod.Delete, P(programId) + "/webhooks/dead-letters" + (url is null ? "" : "?url=" + Uri.EscapeDataString(url)), null, cancellationToken);

    // Transport

    private HttpRequestMessage Request(HttpMethod method, string path, HttpContent? content)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (_apiKey is not null) request.Headers.Add(ApiKeyHeader, _apiKey);
        return request;
    }

    private async Task<HttpResponseMessage> Call(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = Request(method, path, content);
        var response = await _http.SendAsync(request, cancellationToken);
        try
        {
            await EnsureSuccess(response, cancellationToken);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private async Task<T> Send<T>(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var response = await Call(method, path, content, cancellationToken);
        return await Read<T>(response, cancellationToken);
    }

    private async Task<T?> SendOrNull<T>(HttpMethod method, string path, CancellationToken cancellationToken) where T : class
    {
        try
        {
            return await Send<T>(method, path, null, cancellationToken);
        }
        catch (MembershipApiException e) when (e.Status == 404)
        {
            return null;
        }
    }

    private static async Task<T> Read<T>(HttpResponseMessage response, CancellationToken cancellationToken)
        => await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken) ?? throw new InvalidOperationException($"{(int)response.StatusCode} with an empty body");

    private static async Task EnsureSuccess(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode) return;
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        string? title = null, detail = null, reason = null;
        var errors = new Dictionary<string, string[]>();
        try
        {
            if (JsonNode.Parse(text) is JsonObject problem)
            {
                title = (string?)problem["title"];
                detail = (string?)problem["detail"];
                reason = (string?)problem["reason"];
                if (problem["errors"] is JsonObject fields)
                {
                    foreach (var (field, messages) in fields) errors[field] = messages is JsonArray a ? a.Select(m => (string?)m ?? "").ToArray() : [];
                }
            }
        }
        catch (JsonException)
        {
            detail = text;
        }
        var retryAfter = response.Headers.RetryAfter?.Delta;
        throw new MembershipApiException((int)response.StatusCode, title ?? response.ReasonPhrase, detail, reason, errors, retryAfter);
    }
}
