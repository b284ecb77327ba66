using System.Diagnostics.Metrics;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Grains;

/// <summary>
/// The engine's own meter, <see cref="MeterName"/>: instruments named <c>membership.*</c> (Prometheus shows
/// them as <c>membership_*</c>). Tags come from small fixed sets (programs, their event types and benefit
/// codes, results), so recording allocates nothing and no caller-supplied string becomes a series.
/// </summary>
public sealed class MembershipMetrics
{
    public const string MeterName = "Orleans.Membership";

    /// <summary>The type tag of an event whose type the program does not define.</summary>
    public const string OtherType = "other";

    private readonly Counter<long> _events;
    private readonly Counter<long> _benefitChecks;
    private readonly Counter<long> _benefitUses;
    private readonly Histogram<long> _commitRows;
    private readonly Histogram<double> _commitDuration;
    private readonly Counter<long> _webhookDeliveries;
    private readonly Counter<long> _deadLetters;

    public MembershipMetrics(IMeterFactory meters, MemberReadModel members, StreamIngestStats streams, IServiceProvider services)
    {
        var meter = meters.Create(MeterName);
        _events = meter.CreateCounter<long>("membership.events", "{event}",
            "Events sent to the HTTP API, by program, type and result (accepted, duplicate, rejected)");
        _benefitChecks = meter.CreateCounter<long>("membership.benefit.checks", "{check}",
            "Benefit checks answered, by program, code and result (entitled, or the reason it is not: tier, quota, window; unknown-code)");
        _benefitUses = meter.CreateCounter<long>("membership.benefit.uses", "{use}",
            "Benefit uses asked for, by program, code and result (used, replayed, or the reason refused: quota, tier, window, id-reused; invalid, unknown-code)");
        _commitRows = meter.CreateHistogram<long>("membership.ledger.commit.rows", "{row}",
            "Ledger rows per PostgreSQL commit (a group-commit batch, or one append)",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000] });
        _commitDuration = meter.CreateHistogram<double>("membership.ledger.commit.duration", "s",
            "Time of one ledger commit round trip, by result (committed, failed)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _webhookDeliveries = meter.CreateCounter<long>("membership.webhook.deliveries", "{delivery}",
            "Webhook delivery attempts, by result (delivered, failed)");
        _deadLetters = meter.CreateCounter<long>("membership.webhook.dead_letters", "{change}",
            "Changes parked as dead letters after their last failed attempt");
        meter.CreateObservableGauge("membership.members.active", () => (long)members.Count, "{member}",
            "Member grains active in this process's silo");
        meter.CreateObservableCounter("membership.stream.events", () => new Measurement<long>[]
        {
            new(streams.Accepted, new KeyValuePair<string, object?>("result", "accepted")),
            new(streams.Duplicates, new KeyValuePair<string, object?>("result", "duplicate")),
            new(streams.Rejected, new KeyValuePair<string, object?>("result", "rejected")),
        }, "{event}", "Events that came by stream and were applied in this silo, by result");
        meter.CreateObservableGauge("membership.stream.batches.held",
            () => services.GetService(typeof(StreamBackpressureStats)) is StreamBackpressureStats s ? [new Measurement<long>(s.Held)] : Array.Empty<Measurement<long>>(),
            "{batch}", "Stream batches pulled into the silo and not yet applied (the stream's lag)");
    }

    public void Event(MembershipProgram program, string? type, string result)
        => _events.Add(1,
            new KeyValuePair<string, object?>("program", program.Id),
            new KeyValuePair<string, object?>("type", type is not null && program.EventTypes.ContainsKey(type) ? type : OtherType),
            new KeyValuePair<string, object?>("result", result));

    public void Event(MembershipProgram program, string? type, EventStatus status)
        => Event(program, type, status switch
        {
            EventStatus.Accepted => "accepted",
            EventStatus.Duplicate => "duplicate",
            _ => "rejected",
        });

    public void BenefitCheck(string programId, BenefitCheck check)
        => _benefitChecks.Add(1,
            new KeyValuePair<string, object?>("program", programId),
            new KeyValuePair<string, object?>("code", check.Code),
            new KeyValuePair<string, object?>("result", check.Entitled ? "entitled" : check.Reason ?? "not-entitled"));

    /// <summary>A check for a code the program does not define (its code is not a tag: anyone can send one).</summary>
    public void UnknownBenefit(string programId)
        => _benefitChecks.Add(1,
            new KeyValuePair<string, object?>("program", programId),
            new KeyValuePair<string, object?>("result", "unknown-code"));

    /// <param name="code">null when the program does not define it (not a tag: anyone can send one)</param>
    public void BenefitUse(string programId, string? code, WriteResult<BenefitCheck> result)
    {
        var program = new KeyValuePair<string, object?>("program", programId);
        if (code is null)
        {
            _benefitUses.Add(1, program, new KeyValuePair<string, object?>("result", "unknown-code"));
            return;
        }
        _benefitUses.Add(1, program, new KeyValuePair<string, object?>("code", code),
            new KeyValuePair<string, object?>("result", result.Status switch
            {
                WriteStatus.Applied => "used",
                WriteStatus.Replayed => "replayed",
                WriteStatus.Conflict => result.Reason ?? "conflict",
                WriteStatus.NotFound => "not-enrolled",
                _ => "invalid",
            }));
    }

    public void LedgerCommit(int rows, TimeSpan duration, bool committed)
    {
        var result = new KeyValuePair<string, object?>("result", committed ? "committed" : "failed");
        _commitRows.Record(rows, result);
        _commitDuration.Record(duration.TotalSeconds, result);
    }

    public void WebhookDelivery(bool delivered)
        => _webhookDeliveries.Add(1, new KeyValuePair<string, object?>("result", delivered ? "delivered" : "failed"));

    public void DeadLetter() => _deadLetters.Add(1);
}
