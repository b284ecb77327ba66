using Npgsql;
using Polly;
using Polly.Retry;

namespace Orleans.Membership.Api.Operations;

/// <summary>
/// A PostgreSQL restart closes every session, and a pool finds out only as it hands each one out again:
/// without this, the first use of every pooled connection after a restart fails a caller. An operation
/// that fails because the server closed its session runs once more, after the pool is emptied of the rest.
/// Only operations that may run twice use it: reads, upserts, and writes whose rows carry their own key.
/// </summary>
public static class ClosedSessions
{
    /// <summary>One retry, at once, on a session the server closed; <paramref name="emptyPool"/> runs first.</summary>
    public static ResiliencePipeline RetryOnce(Action emptyPool) => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(ClosedByServer),
            MaxRetryAttempts = 1,
            Delay = TimeSpan.Zero,
            OnRetry = _ =>
            {
                emptyPool();
                return default;
            },
        })
        .Build();

    /// <summary>
    /// The server ended the session (shut down, restarted, or an operator terminated it), not the statement;
    /// also when a provider (Orleans' ADO.NET storage) wraps the driver's exception.
    /// </summary>
    public static bool ClosedByServer(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is PostgresException { SqlState: PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown }
                or NpgsqlException { InnerException: IOException or EndOfStreamException }) return true;
        }
        return false;
    }
}
