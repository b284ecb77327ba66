using Orleans.Concurrency;
using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Abstractions;

/// <summary>
/// One member of one program, keyed <c>"{programId}/{memberId}"</c>. Writes are serialized; the reads
/// (summary, benefit checks) interleave with them and see only durable effects (one that arrives while a
/// write's append is in flight answers when the append has ended).
/// </summary>
[Alias("member")]
public interface IMemberGrain : IGrainWithStringKey
{
    [Alias("enroll")] Task<WriteResult<EnrollResult>> Enroll(EnrollRequest request);

    [Alias("apply-events")] Task<EventOutcome[]> ApplyEvents(ScoringEvent[] events);

    [AlwaysInterleave, ReadOnly, Alias("summary")] Task<MemberSummary?> GetSummary();

    [AlwaysInterleave, ReadOnly, Alias("check")] Task<BenefitCheck?> CheckBenefit(string code);

    [AlwaysInterleave, ReadOnly, Alias("check-all")] Task<BenefitCheck[]> CheckBenefits();

    [Alias("use")] Task<WriteResult<BenefitCheck>> UseBenefit(BenefitUseRequest request);

    /// <summary>Each plan of the program and the price of each term for this member now (a guest's prices for one never seen).</summary>
    [AlwaysInterleave, ReadOnly, Alias("plans")] Task<PlanOffer[]> GetPlans();

    [Alias("redeem")] Task<WriteResult<RedemptionResult>> Redeem(RedemptionRequest request);

    [Alias("subscribe")] Task<WriteResult<SubscriptionView>> Subscribe(SubscriptionRequest request);

    /// <summary>A page of the statement (writing due expiries and re-grades first); null for a member never seen.</summary>
    [Alias("ledger")] Task<LedgerPage?> GetLedger(int limit, long? before);

    /// <summary>Publishes the notices now due that have not fired yet (the due-time sweeper calls it); returns how many.</summary>
    [Alias("fire-notices")] Task<int> FireNotices();

    /// <summary>Erases the member's personal data and history.</summary>
    [Alias("erase")] Task Erase();
}

public static class MemberKeys
{
    private static (GrainType Grain, GrainInterfaceType Interface)? s_types;

    /// <summary>
    /// The member grain of <paramref name="memberKey"/>. <c>GetGrain&lt;IMemberGrain&gt;(key)</c> resolves the
    /// interface's Orleans type names from the CLR type on every call (attributes read, names formatted
    /// and parsed); on the ingest path that is once per member per batch, so the names are resolved once.
    /// </summary>
    public static IMemberGrain Member(this IGrainFactory grains, string memberKey)
    {
        var (grain, @interface) = s_types ??= TypesOf((GrainReference)(object)grains.GetGrain<IMemberGrain>(memberKey));
        return (IMemberGrain)grains.GetGrain(GrainId.Create(grain, memberKey), @interface);
    }

    private static (GrainType, GrainInterfaceType) TypesOf(GrainReference sample) => (sample.GrainId.Type, sample.InterfaceType);

    public static string Of(string programId, string memberId) => string.Concat(programId, "/", memberId);

    public static (string ProgramId, string MemberId) Parse(string key)
    {
        var slash = key.IndexOf('/');
        return (key[..slash], key[(slash + 1)..]);
    }
}
