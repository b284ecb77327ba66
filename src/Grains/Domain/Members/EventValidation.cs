using System.Text.Json;
using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Domain.Members;

/// <summary>
/// Checks of one event that need no member state. The HTTP API, the NATS consumer and the grain run them,
/// so every path into a member (HTTP, streams, NATS) refuses the same input with the same words.
/// </summary>
public static class EventValidation
{
    /// <summary>How far ahead of the engine's clock an occurredAt may be (clock skew of producers).</summary>
    public static readonly TimeSpan MaxFutureSkew = TimeSpan.FromMinutes(5);

    public const int MaxTextAttribute = 64;
    public const int MaxQuantity = 1_000_000;
    public const decimal MaxAmount = 1_000_000_000;

    /// <summary>The earliest instant a request may name: year 1 is what an unset date of many languages writes, not a date anything happened on.</summary>
    public static readonly DateTimeOffset Earliest = DateTimeOffset.UnixEpoch;
    public const string BeforeEarliest = "must be 1970-01-01T00:00:00Z or later";

    /// <summary>
    /// What the HTTP and NATS paths refuse before asking the member: every problem but a type the program
    /// does not define, which may be a retry of a type it once did (the member's ledger answers that).
    /// </summary>
    public static (string Field, string Message)? ValidateBeforeMember(MembershipProgram program, ScoringEvent ev, DateTimeOffset now)
        => Validate(program, ev, now, out _) is { Field: not "type" } problem ? problem : null;

    /// <summary>Returns (field, message) of the first problem, or null when the event is well-formed, with the attributes the event type reads, parsed.</summary>
    public static (string Field, string Message)? Validate(MembershipProgram program, ScoringEvent ev, DateTimeOffset now, out EventAttributes? attributes)
    {
        attributes = null;
        if (!CallerIds.IsValid(ev.EventId)) return ("eventId", CallerIds.Rule);
        if (!program.EventTypes.TryGetValue(ev.Type ?? "", out var type))
        {
            return ("type", program.EventTypes.Count == 0
                ? $"unknown event type '{ev.Type}' (program '{program.Id}' takes no events: it has only plans)"
                : $"unknown event type '{ev.Type}' (program '{program.Id}' defines {string.Join(", ", program.EventTypes.Keys.Order(StringComparer.Ordinal))})");
        }
        if (ev.OccurredAt is { } at && at > now + MaxFutureSkew)
        {
            return ("occurredAt", $"is more than {MaxFutureSkew.TotalMinutes:0} minutes in the future");
        }
        if (ev.OccurredAt < Earliest) return ("occurredAt", BeforeEarliest);
        if (type.Kind is EventKind.Purchase or EventKind.Refund)
        {
            if (ev.OrderId is null) return ("orderId", $"is required for '{type.Type}'");
            if (!CallerIds.IsValid(ev.OrderId)) return ("orderId", CallerIds.Rule);
            if (ev.Amount is not { } amount) return ("amount", $"is required for '{type.Type}'");
            if (MoneyProblem(amount) is { } problem) return ("amount", problem);
        }
        else if (ev.Amount is { } amount && MoneyProblem(amount) is { } problem)
        {
            // An activity earns nothing by its amount, but an amount sent is held to the same rule (and fingerprinted).
            return ("amount", problem);
        }
        if (type.Attributes.Count == 0) return null;
        attributes = EventAttributes.Parse(ev.AttributesJson);
        if (attributes is null) return ("attributes", "must be a JSON object");
        foreach (var use in type.Attributes)
        {
            if (AttributeProblem(attributes, use, type.Type) is { } problem) return ("attributes." + use.Name, problem);
        }
        return null;
    }

    private static string? AttributeProblem(EventAttributes attributes, AttributeUse use, string type)
    {
        var kind = attributes.Kind(use.Name);
        if (kind is JsonValueKind.Undefined or JsonValueKind.Null) return $"is required for '{type}'";
        switch (use.Kind)
        {
            case AttributeKind.Text:
                var text = attributes.Text(use.Name);
                return text is { Length: > 0 and <= MaxTextAttribute } ? null : $"must be a string of 1 to {MaxTextAttribute} characters";
            case AttributeKind.Integer:
                return attributes.Number(use.Name) is { } n && n == decimal.Truncate(n) && n is >= 0 and <= MaxQuantity
                    ? null : $"must be a whole number from 0 to {MaxQuantity}";
            default:
                return attributes.Number(use.Name) is { } value && value >= 0 && decimal.Round(value, 2) == value && value <= MaxAmount
                    ? null : $"must be a number from 0 to {MaxAmount} with at most 2 decimals";
        }
    }

    /// <summary>Money is positive with at most 2 decimals.</summary>
    public static string? MoneyProblem(decimal amount)
    {
        if (amount <= 0) return "must be greater than 0";
        if (decimal.Round(amount, 2) != amount) return "must have at most 2 decimals";
        if (amount > MaxAmount) return $"must be at most {MaxAmount}";
        return null;
    }
}
