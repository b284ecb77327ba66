using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Orleans.Runtime;

namespace Orleans.Membership.Api.Operations;

/// <summary>
/// <c>/health/live</c> (the process serves: no check) and <c>/health/ready</c> (every check tagged
/// <see cref="Ready"/>: 200 when all are healthy, 503 otherwise), both with a JSON body. <c>/healthz</c>
/// stays the contract's cheap answer.
/// </summary>
public static class MembershipHealth
{
    public const string Ready = "ready";

    /// <summary>The checks every process has: PostgreSQL answers (when it has a connection string).</summary>
    public static IHealthChecksBuilder AddMembershipHealth(this WebApplicationBuilder builder)
    {
        var checks = builder.Services.AddHealthChecks();
        var connectionString = builder.Configuration.GetConnectionString("Membership");
        if (!string.IsNullOrEmpty(connectionString))
        {
            builder.Services.AddSingleton(_ => new PostgresHealthCheck(connectionString));
            checks.Add(new HealthCheckRegistration("postgres", sp => sp.GetRequiredService<PostgresHealthCheck>(), HealthStatus.Unhealthy, [Ready], TimeSpan.FromSeconds(5)));
        }
        return checks;
    }

    /// <summary>For the API as an Orleans client: some silo of the cluster answers through a gateway.</summary>
    public static IHealthChecksBuilder AddClusterClientCheck(this IHealthChecksBuilder checks)
        => checks.AddCheck<ClusterClientHealthCheck>("cluster", HealthStatus.Unhealthy, [Ready], TimeSpan.FromSeconds(5));

    public static WebApplication MapMembershipHealth(this WebApplication app)
    {
        // Probes are never rate limited, whatever key they carry: an orchestrator must not see a busy key as a dead node.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteJson }).DisableRateLimiting();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = r => r.Tags.Contains(Ready), ResponseWriter = WriteJson }).DisableRateLimiting();
        return app;
    }

    /// <summary><c>{"status":"unhealthy","checks":{"postgres":{"status":"unhealthy","description":"...","durationMs":3001.2}}}</c></summary>
    private static async Task WriteJson(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", Word(report.Status));
        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", Word(entry.Status));
            if (entry.Description is { } description) json.WriteString("description", description);
            json.WriteNumber("durationMs", Math.Round(entry.Duration.TotalMilliseconds, 1));
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static string Word(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        _ => "unhealthy",
    };
}

/// <summary>PostgreSQL answers a round trip within a few seconds.</summary>
internal sealed class PostgresHealthCheck : IHealthCheck, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly Polly.ResiliencePipeline _closed;

    public PostgresHealthCheck(string connectionString)
    {
        // Its own small pool with short timeouts: a probe must answer while the ledger's pool is busy or broken.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Timeout = 3, CommandTimeout = 3, MaxPoolSize = 2 };
        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        _closed = ClosedSessions.RetryOnce(_dataSource.Clear);
    }

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await _closed.ExecuteAsync(async ct =>
            {
                await using var command = _dataSource.CreateCommand("select 1");
                await command.ExecuteScalarAsync(ct);
            }, cancellationToken);
            return HealthCheckResult.Healthy("PostgreSQL answers");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            // The endpoint needs no key: the driver's words (host, port) go to the node's log with the exception.
            return HealthCheckResult.Unhealthy("PostgreSQL does not answer (the node's log says why)", e);
        }
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}

/// <summary>The cluster answers this client: a silo lists the active silos.</summary>
internal sealed class ClusterClientHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(TimeSpan.FromSeconds(3), cancellationToken);
            return hosts.Count > 0 ? HealthCheckResult.Healthy($"{hosts.Count} active silo(s)") : HealthCheckResult.Unhealthy("no active silo");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("the cluster does not answer (the node's log says why)", e);
        }
    }
}
