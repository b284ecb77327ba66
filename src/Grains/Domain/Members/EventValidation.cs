using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Domain.Members;

/// <summary>
/// Checks of one event that need no member state. Both the HTTP API and the grain run them, so every
/// path into a member (HTTP, streams) refuses the same input with the same words.
/// </summary>
public static class EventValidation
{
    /// <summary>How far ahead of the engine's clock an occurredAt may be (clock skew of producers).</summary>
    public static readonly TimeSpan MaxFutureSkew = TimeSpan.FromMinutes(5);

    /// <summary>Returns (field, message) of the first problem, or null when the event is well-formed.</summary>
    public static (string Field, string Message)? Validate(MembershipProgram program, ScoringEvent ev, DateTimeOffset now)
    {
        if (!CallerIds.IsValid(ev.EventId)) return ("eventId", CallerIds.Rule);
        if (!program.EventTypes.TryGetValue(ev.Type ?? "", out var type))
        {
            return ("type", $"unknown event type '{ev.Type}' (program '{program.Id}' defines {string.Join(", ", program.EventTypes.Keys.Order(StringComparer.Ordinal))})");
        }
        if (ev.OccurredAt is { } at && at > now + MaxFutureSkew)
        {
            return ("occurredAt", $"is more than {MaxFutureSkew.TotalMinutes:0} minutes in the future");
        }
        if (type.Kind is EventKind.Purchase or EventKind.Refund)
        {
            if (ev.OrderId is null) return ("orderId", $"is required for '{type.Type}'");
            if (!CallerIds.IsValid(ev.OrderId)) return ("orderId", CallerIds.Rule);
            if (ev.Amount is not { } amount) return ("amount", $"is required for '{type.Type}'");
            if (MoneyProblem(amount) is { } problem) return ("amount", problem);
        }
        return null;
    }

    /// <summary>Money is positive with at most 2 decimals.</summary>
    public static string? MoneyProblem(decimal amount)
    {
        if (amount <= 0) return "must be greater than 0";
        if (decimal.Round(amount, 2) != amount) return "must have at most 2 decimals";
        if (amount > 1_000_000_000m) return "must be at most 1000000000";
        return null;
    }
}
