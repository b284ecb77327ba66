using System.Threading.Channels;
using Npgsql;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Api.Operations;
using Polly;
using Orleans.Membership.Domain.Ledger;

namespace Orleans.Membership.Silo.Postgres;

/// <summary>
/// The due-time index in PostgreSQL (<c>member_due</c>, <c>member_notice_fired</c>). At most
/// <see cref="MaxConcurrent"/> statements at once: thousands of members activating together wait in the
/// process instead of taking connections the ledger needs. Their arms (each member's first notice) are
/// written together, up to <see cref="MaxArmsPerWrite"/> members in one statement, as the ledger's appends are.
/// </summary>
public sealed class PostgresDueIndex : IDueIndex, IAsyncDisposable
{
    public const int MaxConcurrent = 8;
    public const int MaxArmsPerWrite = 5_000;

    private sealed record Arm(string MemberKey, DateTime DueAtUtc, TaskCompletionSource Done);

    private readonly NpgsqlDataSource _dataSource;
    private readonly ResiliencePipeline _closed;
    private readonly SemaphoreSlim _gate = new(MaxConcurrent, MaxConcurrent);
    private readonly Channel<Arm> _arms = Channel.CreateUnbounded<Arm>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _armWriter;

    public PostgresDueIndex(string connectionString)
    {
        var builder = PostgresSessions.Builder(connectionString);
        builder.MaxPoolSize = MaxConcurrent;
        _dataSource = NpgsqlDataSource.Create(builder);
        // Every statement here may run twice: upserts, inserts that skip a present row, deletes and reads.
        _closed = ClosedSessions.RetryOnce(_dataSource.Clear);
        _armWriter = Task.Run(WriteArms);
    }

    public Task ArmAsync(string memberKey, DateTimeOffset dueAt)
    {
        var arm = new Arm(memberKey, dueAt.UtcDateTime, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_arms.Writer.TryWrite(arm)) throw new StoreUnavailableException("the due-time index is stopped");
        return arm.Done.Task;
    }

    /// <summary>Writes the arms waiting, each member once at its earliest time (an upsert may not touch a row twice).</summary>
    private async Task WriteArms()
    {
        var batch = new List<Arm>();
        var earliest = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        while (await _arms.Reader.WaitToReadAsync())
        {
            batch.Clear();
            earliest.Clear();
            while (earliest.Count < MaxArmsPerWrite && _arms.Reader.TryRead(out var arm))
            {
                batch.Add(arm);
                earliest[arm.MemberKey] = earliest.TryGetValue(arm.MemberKey, out var at) && at < arm.DueAtUtc ? at : arm.DueAtUtc;
            }
            try
            {
                await Execute(
                    "insert into member_due (member_key, shard, due_at) select * from unnest($1, $2, $3) " +
                    "on conflict (member_key) do update set due_at = least(member_due.due_at, excluded.due_at)",
                    earliest.Keys.ToArray(), earliest.Keys.Select(k => (short)DueShards.Of(k)).ToArray(), earliest.Values.ToArray());
                foreach (var arm in batch) arm.Done.TrySetResult();
            }
            catch (Exception e)
            {
                foreach (var arm in batch) arm.Done.TrySetException(e);
            }
        }
    }

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
            return await _closed.ExecuteAsync(async _ => await work());
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new StoreUnavailableException($"the due-time index cannot be reached: {e.Message}");
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _arms.Writer.TryComplete();
        await _armWriter;
        await _dataSource.DisposeAsync();
    }
}
