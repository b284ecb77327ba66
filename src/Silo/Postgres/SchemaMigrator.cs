using System.Reflection;
using Npgsql;

namespace Orleans.Membership.Silo.Postgres;

/// <summary>
/// Creates and upgrades the schema from the versioned scripts embedded from <c>src/Silo/Sql</c>
/// (<c>NNNN_name.sql</c>): every script whose version is not yet recorded runs once, in version order,
/// in its own transaction, under an advisory lock so silos starting together do not race.
/// </summary>
public static class SchemaMigrator
{
    private const long LockKey = 0x4D454D42; // "MEMB"

    public static IReadOnlyList<(int Version, string Name, string Sql)> Scripts()
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(n => n.EndsWith(".sql", StringComparison.Ordinal) && n.Contains(".Sql.", StringComparison.Ordinal))
            .Select(n =>
            {
                var file = n[(n.IndexOf(".Sql.", StringComparison.Ordinal) + 5)..];
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                return (int.Parse(file[..4], System.Globalization.CultureInfo.InvariantCulture), file, reader.ReadToEnd());
            })
            .OrderBy(s => s.Item1)
            .ToList();
    }

    /// <summary>Applies what is missing; returns the names of the scripts it applied.</summary>
    public static async Task<IReadOnlyList<string>> MigrateAsync(string connectionString, CancellationToken ct = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await Execute(connection, null, $"select pg_advisory_lock({LockKey})", ct);
        try
        {
            await Execute(connection, null, """
                create table if not exists schema_version (
                    version    integer     primary key,
                    name       text        not null,
                    applied_at timestamptz not null default now())
                """, ct);
            var applied = new HashSet<int>();
            await using (var command = new NpgsqlCommand("select version from schema_version", connection))
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct)) applied.Add(reader.GetInt32(0));
            }
            var done = new List<string>();
            foreach (var (version, name, sql) in Scripts().Where(s => !applied.Contains(s.Version)))
            {
                await using var tx = await connection.BeginTransactionAsync(ct);
                await Execute(connection, tx, sql, ct);
                await using (var record = new NpgsqlCommand("insert into schema_version (version, name) values (@v, @n)", connection, tx))
                {
                    record.Parameters.AddWithValue("v", version);
                    record.Parameters.AddWithValue("n", name);
                    await record.ExecuteNonQueryAsync(ct);
                }
                await tx.CommitAsync(ct);
                done.Add(name);
            }
            return done;
        }
        finally
        {
            await Execute(connection, null, $"select pg_advisory_unlock({LockKey})", CancellationToken.None);
        }
    }

    private static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection, tx);
        await command.ExecuteNonQueryAsync(ct);
    }
}
