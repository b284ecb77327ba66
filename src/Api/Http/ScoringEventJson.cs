using System.Text.Json;
using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Api.Http;

/// <summary>
/// Reads one scoring event object: the HTTP events endpoint and the NATS consumer (src/Silo/Nats) take the
/// same JSON with the same words for what is wrong with it.
/// </summary>
public static class ScoringEventJson
{
    private static readonly string[] Fields = ["eventId", "memberId", "type", "occurredAt", "orderId", "amount", "attributes"];

    /// <summary>Every problem of a rejected event in one line, each with its field path: the HTTP answer's <c>error</c> and a NATS dead letter's reason.</summary>
    public static string Describe(IReadOnlyDictionary<string, string[]> problems)
        => string.Join("; ", problems.Select(p => $"{p.Key}: {p.Value[0]}"));

    /// <summary>Reads one event; returns every problem found in it (messages by field path, in the event's field order) or null.</summary>
    public static Dictionary<string, string[]>? Parse(JsonElement item, string arrayName, int index, out string? memberId, out ScoringEvent? ev, out string? eventId)
    {
        memberId = null;
        ev = null;
        eventId = null;
        if (item.ValueKind != JsonValueKind.Object)
        {
            return new() { [arrayName.Length == 0 ? "$" : $"{arrayName}[{index}]"] = ["must be an event object"] };
        }
        var body = new JsonBody(item, arrayName, index);
        if (item.TryGetProperty("eventId", out var idElement) && idElement.ValueKind == JsonValueKind.String) eventId = idElement.GetString();
        body.RejectUnknown(Fields);
        var id = body.Id("eventId");
        memberId = body.Id("memberId");
        var type = body.String("type", required: true);
        var occurredAt = body.Instant("occurredAt");
        var orderId = body.Id("orderId", required: false);
        var amount = body.Decimal("amount");
        var attributes = body.ObjectText("attributes");
        if (body.HasErrors) return body.Errors;
        ev = new ScoringEvent(id!, type!, occurredAt, orderId, amount, attributes);
        return null;
    }
}
