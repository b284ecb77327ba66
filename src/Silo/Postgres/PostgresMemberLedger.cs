using System.Diagnostics;
using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;
using Orleans.Membership.Api.Operations;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Grains;
using Polly;

namespace Orleans.Membership.Silo.Postgres;

/// <summary>Knobs of the ledger writer.</summary>
public sealed record LedgerWriterOptions
{
    /// <summary>How long the writer gathers appends before writing them (when fewer than a batch wait).</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMilliseconds(2);
    public int MaxBatchRows { get; init; } = 2000;
    /// <summary>
    /// Commits in flight at once, each on its own connection: one gathers while another waits for the disk.
    /// More take more of the node's cores from checkout; one unless the node has cores to spare.
    /// </summary>
    public int Writers { get; init; } = 1;
    /// <summary>false: every append is its own transaction on its own pooled connection, concurrently (the comparison the benchmark makes).</summary>
    public bool GroupCommit { get; init; } = true;
    /// <summary>Reads in flight at once (activations replaying ledgers); the rest wait in the process, not in the pool.</summary>
    public int MaxConcurrentReads { get; init; } = 32;
    /// <summary>Without group commit: appends in flight at once (the rest wait in the process, not in the pool).</summary>
    public int MaxConcurrentWrites { get; init; } = 32;
}

/// <summary>
/// The ledger in PostgreSQL. Appends from every grain of the silo go to one writer, which gathers them
/// for up to <see cref="LedgerWriterOptions.MaxDelay"/> or <see cref="LedgerWriterOptions.MaxBatchRows"/>
/// rows, writes them with one binary COPY in one transaction, and completes every waiting caller
/// together: a caller is acknowledged only after its rows are committed.
/// </summary>
public sealed class PostgresMemberLedger : IMemberLedger, IAsyncDisposable
{
    private sealed record Pending(string MemberKey, IReadOnlyList<LedgerEntry> Entries, TaskCompletionSource Done);

    private readonly NpgsqlDataSource _dataSource;
    private readonly ResiliencePipeline _closed;
    private readonly LedgerWriterOptions _options;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private readonly SemaphoreSlim _readers;
    private readonly SemaphoreSlim _writers;
    private readonly MembershipMetrics? _metrics;
    private long _roundTrips;
    private long _appends;
    private volatile WriterFailure? _failing;

    /// <summary>The writer's latest round trip failed, at this instant, for this reason; null once one commits.</summary>
    public sealed record WriterFailure(DateTimeOffset At, string Error);

    public PostgresMemberLedger(string connectionString, LedgerWriterOptions? options = null, MembershipMetrics? metrics = null)
    {
        _options = options ?? new LedgerWriterOptions();
        _metrics = metrics;
        _dataSource = NpgsqlDataSource.Create(PostgresSessions.Builder(connectionString));
        // A copy that ran twice fails on its rows' (member, seq) key: the caller's answer is then an uncertain append's.
        _closed = ClosedSessions.RetryOnce(_dataSource.Clear);
        _readers = new SemaphoreSlim(_options.MaxConcurrentReads, _options.MaxConcurrentReads);
        _writers = new SemaphoreSlim(_options.MaxConcurrentWrites, _options.MaxConcurrentWrites);
        _writer = Task.Run(WriteLoop);
    }

    /// <summary>Round trips of the writer so far (a batch, or a single append without group commit).</summary>
    public long RoundTrips => Interlocked.Read(ref _roundTrips);
    public long Appends => Interlocked.Read(ref _appends);
    /// <summary>Null while the writer's latest round trip committed.</summary>
    public WriterFailure? Failing => _failing;

    public Task AppendAsync(string memberKey, IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken = default)
    {
        if (entries.Count == 0) return Task.CompletedTask;
        if (!_options.GroupCommit) return WriteAlone(memberKey, entries);
        Interlocked.Increment(ref _appends);
        var pending = new Pending(memberKey, entries, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending)) throw new LedgerUnavailableException("the ledger writer is stopped");
        return pending.Done.Task;
    }

    /// <summary>One append, one round trip: a batch of INSERTs that PostgreSQL runs as one implicit transaction.</summary>
    private async Task WriteAlone(string memberKey, IReadOnlyList<LedgerEntry> entries)
    {
        Interlocked.Increment(ref _appends);
        Interlocked.Increment(ref _roundTrips);
        await _writers.WaitAsync();
        var started = Stopwatch.GetTimestamp();
        try
        {
            await _closed.ExecuteAsync(async _ =>
            {
                await using var connection = await _dataSource.OpenConnectionAsync();
                await using var batch = new NpgsqlBatch(connection);
                foreach (var e in entries)
                {
                    var insert = new NpgsqlBatchCommand(
                        "insert into member_ledger (member_key, seq, event_id, kind, occurred_at, recorded_at, points, growth, entry) " +
                        "values ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
                    insert.Parameters.Add(new NpgsqlParameter { Value = memberKey, NpgsqlDbType = NpgsqlDbType.Text });
                    insert.Parameters.Add(new NpgsqlParameter { Value = e.Seq, NpgsqlDbType = NpgsqlDbType.Bigint });
                    insert.Parameters.Add(new NpgsqlParameter { Value = (object?)e.EventId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
                    insert.Parameters.Add(new NpgsqlParameter { Value = e.Kind, NpgsqlDbType = NpgsqlDbType.Text });
                    insert.Parameters.Add(new NpgsqlParameter { Value = e.OccurredAt.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
                    insert.Parameters.Add(new NpgsqlParameter { Value = e.RecordedAt.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
                    insert.Parameters.Add(new NpgsqlParameter { Value = e.Points, NpgsqlDbType = NpgsqlDbType.Bigint });
                    insert.Parameters.Add(new NpgsqlParameter { Value = e.Growth, NpgsqlDbType = NpgsqlDbType.Bigint });
                    insert.Parameters.Add(new NpgsqlParameter { Value = LedgerEntryJson.Encode(e), NpgsqlDbType = NpgsqlDbType.Jsonb });
                    batch.BatchCommands.Add(insert);
                }
                await batch.ExecuteNonQueryAsync();
            });
            Committed(entries.Count, started);
        }
        catch (Exception e)
        {
            Failed(entries.Count, started, e);
            throw Translate(e);
        }
        finally
        {
            _writers.Release();
        }
    }

    private async Task WriteLoop()
    {
        // A member has one append in flight at most (its grain awaits it), so commits may overlap.
        using var writers = new SemaphoreSlim(_options.Writers, _options.Writers);
        while (await _queue.Reader.WaitToReadAsync())
        {
            await writers.WaitAsync();
            var batch = new List<Pending>();
            var rows = 0;
            var deadline = DateTime.UtcNow + _options.MaxDelay;
            while (rows < _options.MaxBatchRows)
            {
                if (_queue.Reader.TryRead(out var next))
                {
                    batch.Add(next);
                    rows += next.Entries.Count;
                    continue;
                }
                var wait = deadline - DateTime.UtcNow;
                if (wait <= TimeSpan.Zero) break;
                using var timeout = new CancellationTokenSource(wait);
                try
                {
                    if (!await _queue.Reader.WaitToReadAsync(timeout.Token)) break;
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            if (batch.Count > 0) _ = FlushThenRelease(batch, writers);
            else writers.Release();
        }
        for (var i = 0; i < _options.Writers; i++) await writers.WaitAsync();
    }

    private async Task FlushThenRelease(List<Pending> batch, SemaphoreSlim writers)
    {
        try
        {
            await Flush(batch);
        }
        finally
        {
            writers.Release();
        }
    }

    private async Task Flush(List<Pending> batch)
    {
        try
        {
            await Write(batch);
            foreach (var p in batch) p.Done.TrySetResult();
        }
        catch (PostgresException e) when (batch.Count > 1 && e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // One caller's rows conflict: write each caller alone so only the offender fails.
            foreach (var p in batch)
            {
                try
                {
                    await Write([p]);
                    p.Done.TrySetResult();
                }
                catch (Exception single)
                {
                    p.Done.TrySetException(Translate(single));
                }
            }
        }
        catch (Exception e)
        {
            var error = Translate(e);
            foreach (var p in batch) p.Done.TrySetException(error);
        }
    }

    private static Exception Translate(Exception e) => e switch
    {
        PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } pg => new LedgerUnavailableException($"the ledger refused a duplicate row: {pg.MessageText}"),
        _ => new LedgerUnavailableException($"the ledger database cannot take writes: {e.Message}"),
    };

    private async Task Write(IReadOnlyList<Pending> batch)
    {
        var started = Stopwatch.GetTimestamp();
        var rows = 0;
        foreach (var p in batch) rows += p.Entries.Count;
        try
        {
            await _closed.ExecuteAsync(static (state, _) => new ValueTask(state.Ledger.WriteCopy(state.Batch)), (Ledger: this, Batch: batch));
            Committed(rows, started);
        }
        catch (Exception e)
        {
            Failed(rows, started, e);
            throw;
        }
    }

    private void Committed(int rows, long started)
    {
        _failing = null;
        _metrics?.LedgerCommit(rows, Stopwatch.GetElapsedTime(started), committed: true);
    }

    private void Failed(int rows, long started, Exception e)
    {
        // A refused duplicate is one caller's conflict, not a failing writer.
        if (e is not PostgresException { SqlState: PostgresErrorCodes.UniqueViolation }) _failing = new WriterFailure(DateTimeOffset.UtcNow, e.Message);
        _metrics?.LedgerCommit(rows, Stopwatch.GetElapsedTime(started), committed: false);
    }

    private async Task WriteCopy(IReadOnlyList<Pending> batch)
    {
        Interlocked.Increment(ref _roundTrips);
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var copy = await connection.BeginBinaryImportAsync(
            "copy member_ledger (member_key, seq, event_id, kind, occurred_at, recorded_at, points, growth, entry) from stdin (format binary)"))
        {
            foreach (var p in batch)
            {
                foreach (var e in p.Entries)
                {
                    await copy.StartRowAsync();
                    await copy.WriteAsync(p.MemberKey, NpgsqlDbType.Text);
                    await copy.WriteAsync(e.Seq, NpgsqlDbType.Bigint);
                    if (e.EventId is null) await copy.WriteNullAsync();
                    else await copy.WriteAsync(e.EventId, NpgsqlDbType.Text);
                    await copy.WriteAsync(e.Kind, NpgsqlDbType.Text);
                    await copy.WriteAsync(e.OccurredAt.ToUniversalTime(), NpgsqlDbType.TimestampTz);
                    await copy.WriteAsync(e.RecordedAt.ToUniversalTime(), NpgsqlDbType.TimestampTz);
                    await copy.WriteAsync(e.Points, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(e.Growth, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(LedgerEntryJson.Encode(e), NpgsqlDbType.Jsonb);
                }
            }
            await copy.CompleteAsync();
        }
        await tx.CommitAsync();
    }

    public async Task<IReadOnlyList<LedgerEntry>> ReadAfterAsync(string memberKey, long afterSeq, CancellationToken cancellationToken = default)
        => await Query("select entry from member_ledger where member_key = @k and seq > @s order by seq", memberKey, afterSeq, null, cancellationToken);

    public async Task<IReadOnlyList<LedgerEntry>> ReadPageAsync(string memberKey, long? beforeSeq, int limit, CancellationToken cancellationToken = default)
        => await Query("select entry from member_ledger where member_key = @k and seq < @s order by seq desc limit @n", memberKey, beforeSeq ?? long.MaxValue, limit, cancellationToken);

    public async Task<IReadOnlyList<LedgerEntry>> FindAsync(string memberKey, IReadOnlyCollection<string> callerIds, CancellationToken cancellationToken = default)
        => callerIds.Count == 0 ? [] : await Query("select entry from member_ledger where member_key = @k and event_id = any(@ids)", memberKey, 0, null, cancellationToken, [.. callerIds]);

    // The member's rows by its primary key, filtered on the entry: refunds are rare, an index on every order is not worth its writes.
    public async Task<IReadOnlyList<LedgerEntry>> FindOrdersAsync(string memberKey, IReadOnlyCollection<string> orderIds, CancellationToken cancellationToken = default)
        => orderIds.Count == 0 ? [] : await Query("select entry from member_ledger where member_key = @k and kind in ('earn', 'clawback') and entry->>'orderId' = any(@ids) order by seq", memberKey, 0, null, cancellationToken, [.. orderIds]);

    private async Task<List<LedgerEntry>> Query(string sql, string memberKey, long seq, int? limit, CancellationToken ct, string[]? ids = null)
    {
        await _readers.WaitAsync(ct);
        try
        {
            return await _closed.ExecuteAsync(async ct =>
            {
                await using var command = _dataSource.CreateCommand(sql);
                command.Parameters.AddWithValue("k", memberKey);
                command.Parameters.AddWithValue("s", seq);
                if (limit is { } n) command.Parameters.AddWithValue("n", n);
                if (ids is not null) command.Parameters.AddWithValue("ids", ids);
                await using var reader = await command.ExecuteReaderAsync(ct);
                var result = new List<LedgerEntry>();
                while (await reader.ReadAsync(ct)) result.Add(LedgerEntryJson.Decode(reader.GetFieldValue<byte[]>(0)));
                return result;
            }, ct);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new LedgerUnavailableException($"the ledger database cannot be read: {e.Message}");
        }
        finally
        {
            _readers.Release();
        }
    }

    public async Task EraseAsync(string memberKey, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = _dataSource.CreateCommand("delete from member_ledger where member_key = @k");
            command.Parameters.AddWithValue("k", memberKey);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new LedgerUnavailableException($"the ledger database cannot erase: {e.Message}");
        }
    }

    /// <summary>Stops taking appends, writes what is queued, and closes the connections.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
        await _dataSource.DisposeAsync();
    }
}
