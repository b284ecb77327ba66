using System.Net.Sockets;
using Npgsql;
using Orleans.Membership.Api.Operations;

namespace Orleans.Membership.Silo.Postgres;

/// <summary>
/// <c>ConnectionStrings:Membership</c> at start: a string PostgreSQL cannot read or refuses (authentication, an unknown
/// database) is a refused setting; a server that cannot be reached is an unavailable service, which a supervisor may retry.
/// Messages name keys and the server's reason, never a value (the string holds the password).
/// </summary>
public static class DatabaseSetting
{
    public const string Key = "ConnectionStrings:Membership";

    /// <summary>Refuses a string Npgsql cannot read, before anything connects.</summary>
    public static void Check(string connectionString)
    {
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw MembershipSettings.Refused(e.InnerException is KeyNotFoundException
                ? FollowsPassword(connectionString, e.ParamName)
                    ? $"{Key} has a key PostgreSQL does not know after its password (a password with ';' must be in double quotes)"
                    : $"{Key} has a key PostgreSQL does not know: '{e.ParamName}'"
                : e.ParamName is { Length: > 0 } key && !key.Equals("connectionString", StringComparison.OrdinalIgnoreCase)
                    ? $"{Key} has a value for '{key}' that cannot be read"
                    : $"{Key} is not a connection string (Key=value;...)");
        }
    }

    /// <summary>Whether <paramref name="key"/> comes after the password: then it may be the password's own tail, cut at an unquoted ';'.</summary>
    private static bool FollowsPassword(string connectionString, string? key)
    {
        var password = false;
        foreach (var part in connectionString.Split(';'))
        {
            var name = part.Split('=')[0].Trim();
            if (name.Equals("password", StringComparison.OrdinalIgnoreCase) || name.Equals("pwd", StringComparison.OrdinalIgnoreCase)) password = true;
            else if (name.Equals(key, StringComparison.OrdinalIgnoreCase)) return password;
        }
        return password;
    }

    /// <summary>Creates or upgrades the schema (<see cref="SchemaMigrator"/>), its connection's failures told as settings.</summary>
    public static void Migrate(string connectionString)
    {
        try
        {
            SchemaMigrator.MigrateAsync(connectionString).GetAwaiter().GetResult();
        }
        catch (PostgresException e) when (e.SqlState.StartsWith("28", StringComparison.Ordinal) || e.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            throw MembershipSettings.Refused($"{Key} was refused by PostgreSQL: {e.MessageText} ({e.SqlState})");
        }
        catch (Exception e) when (e is NpgsqlException { IsTransient: true } or SocketException)
        {
            var server = new NpgsqlConnectionStringBuilder(connectionString);
            throw MembershipSettings.Unavailable($"{Key}: PostgreSQL at {server.Host}:{server.Port} cannot be reached: {Reason(e)}");
        }
    }

    private static string Reason(Exception e)
    {
        var inner = e;
        while (inner.InnerException is { } next) inner = next;
        return inner.Message == e.Message ? e.Message : $"{e.Message} ({inner.Message})";
    }
}
