using Npgsql;
using Orleans.Membership.Api.Operations;

namespace Orleans.Membership.Tests.Postgres;

/// <summary>Which failures run an operation again: the session's end, never the statement's own error.</summary>
public sealed class ClosedSessionsTests
{
    [Theory]
    [InlineData(PostgresErrorCodes.AdminShutdown, true)]
    [InlineData(PostgresErrorCodes.CrashShutdown, true)]
    [InlineData(PostgresErrorCodes.UniqueViolation, false)]
    [InlineData(PostgresErrorCodes.QueryCanceled, false)]
    public void A_server_error_is_a_closed_session_only_when_the_server_ended_it(string sqlState, bool closed)
    {
        var error = new PostgresException("the server says", "FATAL", "FATAL", sqlState);
        Assert.Equal(closed, ClosedSessions.ClosedByServer(error));
        Assert.Equal(closed, ClosedSessions.ClosedByServer(new InvalidOperationException("a provider's wrapper", error)));
    }

    [Fact]
    public void A_broken_stream_is_a_closed_session_and_a_timeout_is_not()
    {
        Assert.True(ClosedSessions.ClosedByServer(new NpgsqlException("Exception while reading from stream", new EndOfStreamException())));
        Assert.True(ClosedSessions.ClosedByServer(new NpgsqlException("Exception while writing to stream", new IOException("broken pipe"))));
        Assert.False(ClosedSessions.ClosedByServer(new NpgsqlException("Exception while reading from stream", new TimeoutException())));
        Assert.False(ClosedSessions.ClosedByServer(new TimeoutException()));
    }

    [Fact]
    public async Task A_closed_session_runs_once_more_after_the_pool_is_emptied_and_then_gives_up()
    {
        var emptied = 0;
        var runs = 0;
        var pipeline = ClosedSessions.RetryOnce(() => emptied++);
        var closed = new PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", PostgresErrorCodes.AdminShutdown);

        var answer = await pipeline.ExecuteAsync(_ => ++runs == 1 ? throw closed : ValueTask.FromResult(42));
        Assert.Equal((42, 2, 1), (answer, runs, emptied));

        runs = 0;
        await Assert.ThrowsAsync<PostgresException>(async () => await pipeline.ExecuteAsync<int>(_ => { runs++; throw closed; }));
        Assert.Equal(2, runs);

        runs = 0;
        var duplicate = new PostgresException("duplicate key", "ERROR", "ERROR", PostgresErrorCodes.UniqueViolation);
        await Assert.ThrowsAsync<PostgresException>(async () => await pipeline.ExecuteAsync<int>(_ => { runs++; throw duplicate; }));
        Assert.Equal(1, runs);
    }
}
