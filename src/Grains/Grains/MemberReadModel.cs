using System.Collections.Concurrent;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Grains;

/// <summary>
/// The last durable state of each member grain active in this silo, published by the grain itself, so
/// a benefit check co-hosted with the silo answers from memory without a grain-call hop. It answers
/// exactly what the grain's interleaved reads answer (the state after the last committed write); a
/// member that is not active here is not in it, and the caller asks the grain.
/// </summary>
public sealed class MemberReadModel
{
    private readonly ConcurrentDictionary<string, MemberState> _members = new(StringComparer.Ordinal);

    /// <summary>Called by the grain after activation and after every committed write. The state is never mutated afterwards.</summary>
    internal void Publish(string memberKey, MemberState state) => _members[memberKey] = state;

    internal void Withdraw(string memberKey) => _members.TryRemove(memberKey, out _);

    public bool TryGet(string memberKey, out MemberState state) => _members.TryGetValue(memberKey, out state!);

    /// <summary>The check as the grain would answer it, from a published state.</summary>
    public static BenefitCheck Check(MemberState state, MembershipProgram program, Benefit benefit, DateTimeOffset now)
    {
        var enrolled = state.Enrolled ? state : null;
        var tier = enrolled is null ? program.BaseTier : MemberQueries.TierAt(state, program, now).Tier;
        return MemberQueries.Check(enrolled, program, benefit, now, tier);
    }
}
