using System.Diagnostics.Metrics;
using Orleans.Membership.Grains;

namespace Orleans.Membership.Silo.Nats;

/// <summary>
/// The dispatcher's counters (<c>GET /v1/diagnostics/nats</c>) as instruments <c>membership.nats.*</c> of the
/// engine's meter, read at each scrape: what the dispatcher did in this silo (all zero in a silo it never ran in).
/// </summary>
public static class NatsIngestMetrics
{
    public static void Observe(IMeterFactory meters, Func<NatsIngestCounters> read)
    {
        var meter = meters.Create(MembershipMetrics.MeterName);
        static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);
        meter.CreateObservableCounter("membership.nats.messages.received", () => read().Received, "{message}",
            "Messages the NATS dispatcher took from the events stream in this silo (a redelivery of one it still holds is not counted again)");
        meter.CreateObservableCounter("membership.nats.events", () =>
        {
            var c = read();
            return new Measurement<long>[] { new(c.Accepted, Tag("result", "accepted")), new(c.Duplicates, Tag("result", "duplicate")) };
        }, "{event}", "Events from NATS applied by their members, by result (accepted, duplicate)");
        meter.CreateObservableCounter("membership.nats.dead_letters", () =>
        {
            var c = read();
            return new Measurement<long>[] { new(c.Malformed, Tag("kind", "malformed")), new(c.Rejected, Tag("kind", "rejected")) };
        }, "{message}", "Messages from NATS stored in the dead letters, by kind (malformed, rejected)");
        meter.CreateObservableCounter("membership.nats.messages.redelivered", () => read().Redelivered, "{message}",
            "Deliveries of a message the broker had delivered before");
        meter.CreateObservableCounter("membership.nats.calls.failed", () => read().FailedCalls, "{call}",
            "Member calls from the NATS dispatcher that failed and were retried");
        meter.CreateObservableGauge("membership.nats.messages.held", () => read().Holding, "{message}",
            "Messages delivered to the dispatcher and not yet acknowledged or dead-lettered");
        meter.CreateObservableGauge("membership.nats.members.retrying", () => read().RetryingMembers, "{member}",
            "Members whose call from the dispatcher is being retried (their later events wait)");
        meter.CreateObservableGauge("membership.nats.consuming", () => read().Running ? 1 : 0, "{dispatcher}",
            "1 while the dispatcher in this silo holds the consumer and pulls");
    }
}
