using Npgsql;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Domain.Ledger;

namespace Orleans.Membership.Silo.Postgres;

/// <summary>
/// The due-time index in PostgreSQL (<c>member_due</c>, <c>member_notice_fired</c>). At most
/// <see cref="MaxConcurrent"/> statements at once: thousands of members activating together (each arming
/// its first notice) wait in the process instead of taking connections the ledger needs.
/// </summary>
public sealed class PostgresDueIndex(string connectionString) : IDueIndex, IAsyncDisposable
{
    public const int MaxConcurrent = 8;

    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(
        new NpgsqlConnectionStringBuilder(connectionString) { Timeout = 3, CommandTimeout = 10, MaxPoolSize = MaxConcurrent });
    private readonly SemaphoreSlim _gate = new(MaxConcurrent, MaxConcurrent);

    public Task ArmAsync(string memberKey, DateTimeOffset dueAt) => Execute(
        "insert into member_due (member_key, shard, due_at) values ($1, $2, $3) " +
        "on conflict (member_key) do update set due_at = least(member_due.due_at, excluded.due_at)",
        memberKey, (short)DueShards.Of(memberKey), dueAt.ToUniversalTime());

    public Task SetAsync(string memberKey, DateTimeOffset? dueAt) => dueAt is { } at
        ? Execute(
            "insert into member_due (member_key, shard, due_at) values ($1, $2, $3) " +
            "on conflict (member_key) do update set due_at = excluded.due_at",
            memberKey, (short)DueShards.Of(memberKey), at.ToUniversalTime())
        : Execute("delete from member_due where member_key = $1", memberKey);

    public Task<IReadOnlyList<string>> DueAsync(int shard, DateTimeOffset now, int max) => Gated<IReadOnlyList<string>>(async () =>
    {
        await using var command = _dataSource.CreateCommand("select member_key from member_due where shard = $1 and due_at <= $2 order by due_at limit $3");
        command.Parameters.Add(new NpgsqlParameter { Value = (short)shard });
        command.Parameters.Add(new NpgsqlParameter { Value = now.ToUniversalTime() });
        command.Parameters.Add(new NpgsqlParameter { Value = max });
        await using var reader = await command.ExecuteReaderAsync();
        var keys = new List<string>();
        while (await reader.ReadAsync()) keys.Add(reader.GetString(0));
        return keys;
    });

    public Task<bool> HasFiredAsync(string memberKey, string noticeKey) => Gated(async () =>
    {
        await using var command = _dataSource.CreateCommand("select 1 from member_notice_fired where member_key = $1 and notice_key = $2");
        command.Parameters.Add(new NpgsqlParameter { Value = memberKey });
        command.Parameters.Add(new NpgsqlParameter { Value = noticeKey });
        return await command.ExecuteScalarAsync() is not null;
    });

    public Task MarkFiredAsync(string memberKey, string noticeKey) => Execute(
        "insert into member_notice_fired (member_key, notice_key) values ($1, $2) on conflict do nothing", memberKey, noticeKey);

    public async Task EraseAsync(string memberKey)
    {
        await Execute("delete from member_due where member_key = $1", memberKey);
        await Execute("delete from member_notice_fired where member_key = $1", memberKey);
    }

    private Task Execute(string sql, params object[] values) => Gated(async () =>
    {
        await using var command = _dataSource.CreateCommand(sql);
        foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value });
        return await command.ExecuteNonQueryAsync();
    });

    private async Task<T> Gated<T>(Func<Task<T>> work)
    {
        await _gate.WaitAsync();
        try
        {
            return await work();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new StoreUnavailableException($"the due-time index cannot be reached: {e.Message}", e);
        }
        finally
        {
            _gate.Release();
        }
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
