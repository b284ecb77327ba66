namespace Orleans.Membership.Domain.Ledger;

/// <summary>
/// When each member next has a notice due (points expiring, a plan ending), and which notices fired.
/// One row per member, not a reminder per member: a few sweeper grains read what is due.
/// </summary>
public interface IDueIndex
{
    /// <summary>Sets the member's next due time to <paramref name="dueAt"/> if that is earlier than the stored one.</summary>
    Task ArmAsync(string memberKey, DateTimeOffset dueAt);

    /// <summary>Replaces the member's next due time; null: nothing is due any more.</summary>
    Task SetAsync(string memberKey, DateTimeOffset? dueAt);

    /// <summary>Members of <paramref name="shard"/> with a due time at or before <paramref name="now"/>, earliest first.</summary>
    Task<IReadOnlyList<string>> DueAsync(int shard, DateTimeOffset now, int max);

    Task<bool> HasFiredAsync(string memberKey, string noticeKey);

    Task MarkFiredAsync(string memberKey, string noticeKey);

    /// <summary>Forgets the member (erasure).</summary>
    Task EraseAsync(string memberKey);
}

public static class DueShards
{
    /// <summary>Sweeper grains, one per shard.</summary>
    public const int Count = 4;

    /// <summary>A stable shard of a member key (FNV-1a: the same in every process, unlike string.GetHashCode).</summary>
    public static int Of(string memberKey)
    {
        uint hash = 2166136261;
        foreach (var c in memberKey)
        {
            hash ^= c;
            hash *= 16777619;
        }
        return (int)(hash % Count);
    }
}
