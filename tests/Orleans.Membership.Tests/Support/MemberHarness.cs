using System.Globalization;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Tests.Support;

/// <summary>
/// Drives the pure rules the way the grain does (copy, rule, due entries, adopt), keeping the whole
/// ledger, so domain tests read like the program's rules.
/// </summary>
public sealed class MemberHarness(MembershipProgram program)
{
    private int _ids;
    public MembershipProgram Program { get; } = program;
    public MemberState State { get; private set; } = new();
    public List<LedgerEntry> Ledger { get; } = [];
    public DateTimeOffset Now { get; set; } = At("2026-11-23T12:00:00+08:00");

    public static DateTimeOffset At(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture).ToUniversalTime();

    public T Write<T>(Func<MemberWrite, T> rule, bool writeDue = true)
    {
        var w = new MemberWrite(State.Clone(), Program, Now);
        var result = rule(w);
        if (w.Entries.Count > 0 && writeDue) MemberRules.WriteDue(w);
        State = w.State;
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

    public WriteResult<RedemptionResult> Redeem(long points, string? id = null)
        => Write(w => MemberRules.Redeem(w, new RedemptionRequest(id ?? $"r{++_ids}", points, "test")));

    public WriteResult<BenefitCheck> Use(string code, string? useId = null)
        => Write(w => MemberRules.UseBenefit(w, new BenefitUseRequest(code, useId ?? $"u{++_ids}", null)));

    public WriteResult<SubscriptionView> Plan(string action, string? term = null, string? at = null, string plan = "plus", string? id = null)
        => Write(w => MemberRules.Subscribe(w, new SubscriptionRequest(id ?? $"s{++_ids}", plan, action, term, at is null ? null : At(at))));

    public void Enroll(string? birthday = null) => Write(w => MemberRules.Enroll(w, new EnrollRequest(birthday)));

    public MemberSummary Summary() => MemberQueries.Summary("m", State, Program, Now);
    public TierStatus Tier() => MemberQueries.TierAt(State, Program, Now);
    public long Balance => State.BalanceAt(Now);

    public BenefitCheck Check(string code)
        => MemberQueries.Check(State.Enrolled ? State : null, Program, Program.BenefitsByCode[code], Now, Tier().Tier);
}
