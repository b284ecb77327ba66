using System.Globalization;
using System.Text.Json;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Tests.Support;

/// <summary>
/// Drives the pure rules the way the grain does (rule and due entries folded into the member's state,
/// entries kept), keeping the whole ledger, so domain tests read like the program's rules.
/// </summary>
public sealed class MemberHarness(MembershipProgram program)
{
    private int _ids;
    public MembershipProgram Program { get; } = program;
    public MemberState State { get; } = new();
    public List<LedgerEntry> Ledger { get; } = [];
    public DateTimeOffset Now { get; set; } = At("2026-11-23T12:00:00+08:00");

    public static DateTimeOffset At(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture).ToUniversalTime();

    /// <summary>
    /// Every write is first run and taken back (as after a failed append), and must leave the state
    /// exactly as it was, before it runs for real.
    /// </summary>
    public bool RehearseWrites { get; init; }

    public T Write<T>(Func<MemberWrite, T> rule, bool writeDue = true)
    {
        if (RehearseWrites)
        {
            var before = JsonSerializer.Serialize(State.ToSnapshot());
            var trial = new MemberWrite(State, Program, Now);
            rule(trial);
            if (trial.Entries.Count > 0 && writeDue) MemberRules.WriteDue(trial);
            trial.Undo();
            Assert.Equal(before, JsonSerializer.Serialize(State.ToSnapshot()));
        }
        var w = new MemberWrite(State, Program, Now);
        var result = rule(w);
        if (w.Entries.Count > 0 && writeDue) MemberRules.WriteDue(w);
        w.Keep();
        Ledger.AddRange(w.Entries);
        return result;
    }

    public void Due() => Write(w => { MemberRules.WriteDue(w); return 0; }, writeDue: false);

    public EventOutcome Event(string type, string? occurredAt = null, string? orderId = null, decimal? amount = null, string? eventId = null)
    {
        var ev = new ScoringEvent(eventId ?? $"e{++_ids}", type, occurredAt is null ? null : At(occurredAt), orderId, amount, null);
        return Write(w => MemberRules.ApplyEvent(w, ev));
    }

    public EventOutcome Paid(string orderId, decimal amount, string occurredAt, string? eventId = null)
        => Event("order.paid", occurredAt, orderId, amount, eventId ?? orderId + "-paid");

    public EventOutcome Refunded(string orderId, decimal amount, string occurredAt, string? eventId = null)
        => Event("order.refunded", occurredAt, orderId, amount, eventId ?? $"{orderId}-refund-{++_ids}");

    // Requests are made before the write: a rehearsed write must run the very same one twice.
    public WriteResult<RedemptionResult> Redeem(long points, string? id = null)
    {
        var request = new RedemptionRequest(id ?? $"r{++_ids}", points, "test");
        return Write(w => MemberRules.Redeem(w, request));
    }

    public WriteResult<BenefitCheck> Use(string code, string? useId = null)
    {
        var request = new BenefitUseRequest(code, useId ?? $"u{++_ids}", null);
        return Write(w => MemberRules.UseBenefit(w, request));
    }

    public WriteResult<SubscriptionView> Plan(string action, string? term = null, string? at = null, string plan = "plus", string? id = null)
    {
        var request = new SubscriptionRequest(id ?? $"s{++_ids}", plan, action, term, at is null ? null : At(at));
        return Write(w => MemberRules.Subscribe(w, request));
    }

    public void Enroll(string? birthday = null) => Write(w => MemberRules.Enroll(w, new EnrollRequest(birthday)));

    public MemberSummary Summary() => MemberQueries.Summary("m", State, Program, Now);
    public TierStatus Tier() => MemberQueries.TierAt(State, Program, Now);
    public long Balance => State.BalanceAt(Now);

    public BenefitCheck Check(string code)
        => MemberQueries.Check(State.Enrolled ? State : null, Program, Program.BenefitsByCode[code], Now, Tier().Tier);
}
