using System.Text.Json.Nodes;

namespace Orleans.Membership.Api.Http;

// The request bodies as the OpenAPI document and typed clients see them. Handlers read bodies field by
// field (JsonBody) to name every problem's field path; these records declare the same fields, and a
// default marks a field the body may leave out (the document's "required" lists the others).

/// <summary><c>POST .../members/{m}</c>: enroll, or update the profile of an enrolled member.</summary>
public sealed record EnrollBody(string? Birthday = null);

/// <summary><c>POST .../benefits/{code}/uses</c>.</summary>
public sealed record BenefitUseBody(string UseId, string? OrderId = null);

/// <summary><c>POST .../points/redemptions</c>.</summary>
public sealed record RedemptionBody(string RedemptionId, long Points, string? Reason = null);

/// <summary><c>POST .../subscription</c>: <c>action</c> is purchase, trial or cancel; <c>term</c> (P1Y, P1M) is required for a purchase.</summary>
public sealed record SubscriptionBody(string SubscriptionEventId, string Plan, string Action, string? Term = null, DateTimeOffset? At = null);

/// <summary>One scoring event.</summary>
public sealed record EventBody(string EventId, string MemberId, string Type, DateTimeOffset? OccurredAt = null, string? OrderId = null, decimal? Amount = null, JsonObject? Attributes = null);

/// <summary><c>POST .../events</c>: a batch of at most 1,000 events (a single event object is accepted too).</summary>
public sealed record EventBatchBody(IReadOnlyList<EventBody> Events);

/// <summary>One webhook target: an absolute http(s) URL and a secret of 16 to 256 characters.</summary>
public sealed record WebhookBody(string Url, string Secret);

/// <summary><c>PUT .../webhooks</c>: the program's webhooks (an empty list removes them all).</summary>
public sealed record WebhooksBody(IReadOnlyList<WebhookBody> Webhooks);
