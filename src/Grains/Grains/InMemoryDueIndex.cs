using Orleans.Membership.Domain.Ledger;

namespace Orleans.Membership.Grains;

/// <summary>The index of the embedded node: in this process's memory.</summary>
public sealed class InMemoryDueIndex : IDueIndex
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _due = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string), bool> _fired = new();

    public Task ArmAsync(string memberKey, DateTimeOffset dueAt)
    {
        _due.AddOrUpdate(memberKey, dueAt, (_, stored) => dueAt < stored ? dueAt : stored);
        return Task.CompletedTask;
    }

    public Task SetAsync(string memberKey, DateTimeOffset? dueAt)
    {
        if (dueAt is { } at) _due[memberKey] = at;
        else _due.TryRemove(memberKey, out _);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> DueAsync(int shard, DateTimeOffset now, int max)
        => Task.FromResult<IReadOnlyList<string>>(_due
            .Where(kv => kv.Value <= now && DueShards.Of(kv.Key) == shard)
            .OrderBy(kv => kv.Value)
            .Take(max)
            .Select(kv => kv.Key)
            .ToList());

    public Task<bool> HasFiredAsync(string memberKey, string noticeKey) => Task.FromResult(_fired.ContainsKey((memberKey, noticeKey)));

    public Task MarkFiredAsync(string memberKey, string noticeKey)
    {
        _fired[(memberKey, noticeKey)] = true;
        return Task.CompletedTask;
    }

    public Task EraseAsync(string memberKey)
    {
        _due.TryRemove(memberKey, out _);
        foreach (var key in _fired.Keys.Where(k => k.Item1 == memberKey).ToList()) _fired.TryRemove(key, out _);
        return Task.CompletedTask;
    }
}
