using Npgsql;

namespace Orleans.Membership.Silo.Postgres;

/// <summary>
/// How the engine's own PostgreSQL sessions (ledger, due-time index) are opened. A silo whose host dies
/// mid-write sends no FIN: without keepalives its session, and the uncommitted ledger rows that hold a
/// member's next seq, would live for hours and block every other silo writing that member.
/// </summary>
public static class PostgresSessions
{
    /// <summary>
    /// Server settings of every session: a peer silent for 10 s is probed every 5 s and dropped after 3
    /// unanswered probes; a transaction left idle (a process hung between COPY and COMMIT) is ended after 15 s.
    /// </summary>
    public const string ServerOptions =
        "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3 " +
        "-c tcp_user_timeout=25000 -c idle_in_transaction_session_timeout=15s";

    /// <summary>
    /// The connection string with the engine's defaults: fail fast when the database is away (a caller gets
    /// 503 in seconds, never a hang) and <see cref="ServerOptions"/>. What the operator set wins.
    /// </summary>
    public static NpgsqlConnectionStringBuilder Builder(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        // Keys holds only the keywords the string gave, under Npgsql's canonical names (timeout, CommandTimeout, ...).
        var given = builder.Keys.Cast<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);
        var theirs = builder.Options;
        if (!given.Contains("Timeout")) builder.Timeout = 3;
        if (!given.Contains("Command Timeout")) builder.CommandTimeout = 10;
        // Later -c settings win in PostgreSQL's startup options, so the operator's come after ours.
        builder.Options = string.IsNullOrWhiteSpace(theirs) ? ServerOptions : $"{ServerOptions} {theirs}";
        return builder;
    }
}
