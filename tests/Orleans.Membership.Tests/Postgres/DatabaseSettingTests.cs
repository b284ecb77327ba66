using System.Net;
using System.Net.Sockets;
using Npgsql;
using Orleans.Membership.Tests.Operations;

namespace Orleans.Membership.Tests.Postgres;

/// <summary>
/// A connection string PostgreSQL refuses stops the node as a refused setting (exit 78); a server that cannot be
/// reached, as an unavailable service (exit 69): one line, no stack, no password (docs/configuration.md).
/// </summary>
[Collection(PostgresCollection.Name), Trait("Category", "Postgres")]
public sealed class DatabaseSettingTests(PostgresFixture pg)
{
    private const string Secret = "not-the-password-4f1c";

    [Fact]
    public async Task A_wrong_password_is_a_refused_setting()
    {
        var wrong = new NpgsqlConnectionStringBuilder(pg.ConnectionString) { Password = Secret };
        await AssertEnds(wrong.ConnectionString, 78,
            $"Refused setting: ConnectionStrings:Membership was refused by PostgreSQL: password authentication failed for user \"{wrong.Username}\" (28P01)");
    }

    [Fact]
    public async Task A_missing_database_is_a_refused_setting()
    {
        var missing = new NpgsqlConnectionStringBuilder(pg.ConnectionString) { Database = $"missing_{Guid.NewGuid():N}" };
        await AssertEnds(missing.ConnectionString, 78,
            $"Refused setting: ConnectionStrings:Membership was refused by PostgreSQL: database \"{missing.Database}\" does not exist (3D000)");
    }

    [Fact]
    public async Task A_mistyped_key_is_a_refused_setting()
    {
        var mistyped = new NpgsqlConnectionStringBuilder(pg.ConnectionString) { Password = Secret }.ConnectionString.Replace("Host=", "Hots=", StringComparison.Ordinal);
        await AssertEnds(mistyped, 78, "Refused setting: ConnectionStrings:Membership has a key PostgreSQL does not know: 'hots'");
    }

    [Fact]
    public async Task A_password_cut_at_an_unquoted_semicolon_is_not_shown_as_a_key()
    {
        var cut = new NpgsqlConnectionStringBuilder(pg.ConnectionString) { Password = null }.ConnectionString + ";Password=Xy;Zq=9";
        await AssertEnds(cut, 78,
            "Refused setting: ConnectionStrings:Membership has a key PostgreSQL does not know after its password (a password with ';' must be in double quotes)");
    }

    [Fact]
    public async Task A_database_that_cannot_be_reached_is_an_unavailable_service()
    {
        int closed;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            closed = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        var away = new NpgsqlConnectionStringBuilder(pg.ConnectionString) { Host = "127.0.0.1", Port = closed, Password = Secret };
        await AssertEnds(away.ConnectionString, 69,
            $"Unavailable: ConnectionStrings:Membership: PostgreSQL at 127.0.0.1:{closed} cannot be reached: Failed to connect to 127.0.0.1:{closed}", exact: false);
    }

    private static async Task AssertEnds(string connectionString, int expectedExitCode, string expectedLine, bool exact = true)
    {
        var ports = NodeProcess.Ports.Free();
        var (exitCode, output, errors) = await RefusedSettingsTests.RunAsync("Silo",
        [
            "--urls", $"http://127.0.0.1:{ports.Http}", $"--Membership:SiloPort={ports.Silo}", $"--Membership:GatewayPort={ports.Gateway}",
            "--Membership:Dashboard:Enabled=false", $"--ConnectionStrings:Membership={connectionString}",
        ]);

        Assert.Equal(expectedExitCode, exitCode);
        var line = Assert.Single(errors);
        if (exact) Assert.Equal(expectedLine, line);
        else Assert.StartsWith(expectedLine, line, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, string.Join('\n', [.. output, .. errors]), StringComparison.Ordinal);
        Assert.DoesNotContain(output, l => l.Contains("Exception", StringComparison.Ordinal));
    }
}
