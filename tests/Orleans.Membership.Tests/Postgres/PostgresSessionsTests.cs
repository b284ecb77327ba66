using Orleans.Membership.Silo.Postgres;

namespace Orleans.Membership.Tests.Postgres;

/// <summary>
/// The engine's session defaults (connect timeout 3 s, command timeout 10 s) apply to each timeout the
/// operator's connection string leaves out, however Npgsql lets them spell the ones they give.
/// </summary>
public sealed class PostgresSessionsTests
{
    [Theory]
    [InlineData("Host=db", 3, 10)]
    [InlineData("Host=db;Command Timeout=30", 3, 30)]
    [InlineData("Host=db;commandtimeout=30", 3, 30)]
    [InlineData("Host=db;CommandTimeout=30", 3, 30)]
    [InlineData("Host=db;timeout=7", 7, 10)]
    [InlineData("Host=db;TIMEOUT=7;command timeout=30", 7, 30)]
    [InlineData("Host=db;Timeout=15", 15, 10)]
    [InlineData("Host=db;Internal Command Timeout=5;Cancellation Timeout=1000", 3, 10)]
    public void Each_timeout_the_operator_gave_is_kept_and_each_one_left_out_gets_the_engines_default(string connectionString, int connect, int command)
    {
        var builder = PostgresSessions.Builder(connectionString);

        Assert.Equal(connect, builder.Timeout);
        Assert.Equal(command, builder.CommandTimeout);
    }
}
