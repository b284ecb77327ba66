using System.Globalization;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Tests.Support;

/// <summary>
/// Drives the pure rules the way the grain does (rule and due entries folded into the member's state),
/// keeping the whole ledger, so domain tests read like the program's rules. With <see cref="Bounded"/> the
/// state is folded after every write, as the grain's is, and what a request needs from the history comes
/// from the harness's ledger (<see cref="MemberRecall"/>, then the whole history if a rule still asks).
/// </summary>
public sealed class MemberHarness(MembershipProgram program)
{
    private int _ids;
    /// <summary>The program version the next write runs under (a test may put a new one in, as a PUT would).</summary>
    public MembershipProgram Program { get; set; } = program;
    public MemberState State { get; private set; } = new();
    public List<LedgerEntry> Ledger { get; } = [];
    public DateTimeOffset Now { get; set; } = At("2026-11-23T12:00:00+08:00");

    /// <summary>Fold the state after every write, as the member grain does.</summary>
    public bool Bounded { get; init; }

    /// <summary>Writes whose rules reached for history the recall had not brought (the grain then replays the whole ledger).</summary>
    public int Fallbacks => FallbackReasons.Count;

    public List<string> FallbackReasons { get; } = [];

    /// <summary>Writes that replayed the whole ledger because the recall said so.</summary>
    public int WholeHistoryLoads { get; private set; }

    public static DateTimeOffset At(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture).ToUniversalTime();

    public T Write<T>(Func<MemberWrite, T> rule, bool writeDue = true, MemberRecall? recall = null)
    {
        // The grain folds what it loads on activation, a new member's empty state too.
        if (Bounded && Ledger.Count == 0) State.Fold(Program, Now);
        var wholeHistory = recall is { WholeHistory: true };
        if (!wholeHistory && recall is { CallerIds.Count: > 0 }) State.Recall(recall.CallerIds, Ledger.Where(e => e.EventId is { } id && recall.CallerIds.Contains(id)));
        if (!wholeHistory && recall is { OrderIds.Count: > 0 }) wholeHistory = !State.RecallOrders(recall.OrderIds, OrderEntries(recall.OrderIds));
        if (wholeHistory)
        {
            State = MemberState.Replay(Ledger);
            WholeHistoryLoads++;
        }
        var w = new MemberWrite(State, Program, Now);
        // As the grain does: the entries then due are written inside the write, so a rule or a due entry
        // that reaches behind the checkpoint runs the whole write again on the whole history.
        T Run(MemberWrite write)
        {
            var r = rule(write);
            if (write.Entries.Count > 0 && writeDue) MemberRules.WriteDue(write);
            return r;
        }
        T result;
        try
        {
            result = Run(w);
        }
        catch (HistoryNeededException e)
        {
            FallbackReasons.Add(e.Message);
            State = MemberState.Replay(Ledger);
            w = new MemberWrite(State, Program, Now);
            result = Run(w);
        }
        Ledger.AddRange(w.Entries);
        if (Bounded) State.Fold(Program, Now);
        return result;
    }

    /// <summary>The state rebuilt from the ledger, as a reactivated grain's is.</summary>
    public void Reload() => State = MemberState.Replay(Ledger);

    public void Due() => Write(w => { MemberRules.WriteDue(w); return 0; }, writeDue: false);

    public EventOutcome Event(string type, string? occurredAt = null, string? orderId = null, decimal? amount = null, string? eventId = null, string? attributes = null)
        => Apply(new ScoringEvent(eventId ?? $"e{++_ids}", type, occurredAt is null ? null : At(occurredAt), orderId, amount, attributes));

    /// <summary>Applies one event as the grain does: what it needs recalled from the ledger first.</summary>
    public EventOutcome Apply(ScoringEvent ev) => Write(w => MemberRules.ApplyEvent(w, ev), recall: MemberRecall.ForEvents(State, Program, [ev], Now));

    /// <summary>A write's answer as one comparable line.</summary>
    public static string Describe<T>(WriteResult<T> r) => $"{r.Status} {r.Reason} {r.Field} {System.Text.Json.JsonSerializer.Serialize(r.Value)}";

    public EventOutcome Paid(string orderId, decimal amount, string occurredAt, string? eventId = null, string? attributes = null)
        => Event("order.paid", occurredAt, orderId, amount, eventId ?? orderId + "-paid", attributes);

    public EventOutcome Refunded(string orderId, decimal amount, string occurredAt, string? eventId = null)
        => Event("order.refunded", occurredAt, orderId, amount, eventId ?? $"{orderId}-refund-{++_ids}");

    public WriteResult<RedemptionResult> Redeem(long points, string? id = null)
    {
        var request = new RedemptionRequest(id ?? $"r{++_ids}", points, "test");
        return Write(w => MemberRules.Redeem(w, request), recall: MemberRecall.ForCallerId(State, Program, request.RedemptionId));
    }

    public WriteResult<BenefitCheck> Use(string code, string? useId = null)
    {
        var request = new BenefitUseRequest(code, useId ?? $"u{++_ids}", null);
        return Write(w => MemberRules.UseBenefit(w, request), recall: MemberRecall.ForCallerId(State, Program, request.UseId));
    }

    public WriteResult<SubscriptionView> Plan(string action, string? term = null, string? at = null, string plan = "plus", string? id = null)
        => Plan(action, term, at is null ? null : At(at), plan, id);

    public WriteResult<SubscriptionView> Plan(string action, string? term, DateTimeOffset? at, string plan = "plus", string? id = null)
    {
        var request = new SubscriptionRequest(id ?? $"s{++_ids}", plan, action, term, at);
        return Write(w => MemberRules.Subscribe(w, request), recall: MemberRecall.ForSubscription(State, Program, request));
    }

    public void Enroll(string? birthday = null) => Write(w => MemberRules.Enroll(w, new EnrollRequest(birthday)));

    public MemberSummary Summary() => MemberQueries.Summary("m", State, Program, Now);
    public TierStatus Tier() => MemberQueries.TierAt(State, Program, Now);
    public long Balance => State.BalanceAt(Now);
    /// <summary>The order as the ledger has it (a member keeps none of its orders).</summary>
    public OrderRecord Order(string orderId)
    {
        var whole = new MemberState();
        whole.RecallOrders([orderId], OrderEntries([orderId]));
        return whole.Order(orderId) ?? throw new KeyNotFoundException(orderId);
    }

    /// <summary>What the ledger's <see cref="IMemberLedger.FindOrdersAsync"/> gives for <paramref name="orderIds"/>.</summary>
    private IEnumerable<LedgerEntry> OrderEntries(IReadOnlyCollection<string> orderIds)
        => Ledger.Where(e => e.OrderId is { } id && e.Kind is LedgerKinds.Earn or LedgerKinds.Clawback && orderIds.Contains(id));

    public BenefitCheck Check(string code)
        => MemberQueries.Check(State.Enrolled ? State : null, Program, Program.BenefitsByCode[code], Now, Tier().Tier);

    public PlanOffer[] Plans() => MemberQueries.Plans(State.Enrolled ? State : null, Program, Now, Tier().Tier);
}
