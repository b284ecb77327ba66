using System.Collections.Concurrent;
using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Grains;

/// <summary>
/// The benefit facts of each member grain active in this silo, published by the grain itself after
/// activation and after every durable write that changed them, so a benefit check co-hosted with the
/// silo answers from memory without a grain-call hop. The facts are immutable copies: the grain's live
/// state never leaves its activation. A member that is not active here is not in it, and facts that no
/// longer answer (<see cref="BenefitFacts.Answers"/>: a tier validity ended, the program changed) send
/// the caller to the grain, which publishes fresh ones.
/// </summary>
public sealed class MemberReadModel
{
    private readonly ConcurrentDictionary<string, BenefitFacts> _members = new(StringComparer.Ordinal);

    internal void Publish(string memberKey, BenefitFacts facts) => _members[memberKey] = facts;

    internal void Withdraw(string memberKey) => _members.TryRemove(memberKey, out _);

    /// <summary>Members active in this silo (takes the dictionary's locks: for a metric's scrape, not a request).</summary>
    public int Count => _members.Count;

    public bool TryGet(string memberKey, out BenefitFacts facts) => _members.TryGetValue(memberKey, out facts!);
}
