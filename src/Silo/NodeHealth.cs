using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Membership.Api.Operations;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Silo.Postgres;
using Orleans.Runtime;

namespace Orleans.Membership.Silo;

/// <summary>A silo's readiness checks beside PostgreSQL's: the silo is active in its cluster, the ledger writer commits.</summary>
public static class NodeHealth
{
    public static IHealthChecksBuilder AddSiloChecks(this IHealthChecksBuilder checks)
        => checks
            .AddCheck<SiloHealthCheck>("silo", HealthStatus.Unhealthy, [MembershipHealth.Ready])
            .AddCheck<LedgerWriterHealthCheck>("ledger", HealthStatus.Unhealthy, [MembershipHealth.Ready]);
}

/// <summary>This silo is Active in the cluster's membership (not joining, shutting down or declared dead).</summary>
internal sealed class SiloHealthCheck(IClusterMembershipService membership, ILocalSiloDetails silo) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var snapshot = membership.CurrentSnapshot;
        var status = snapshot.GetSiloStatus(silo.SiloAddress);
        var active = snapshot.Members.Values.Count(m => m.Status == SiloStatus.Active);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"this silo is active; {active} active silo(s) in the cluster")
            : HealthCheckResult.Unhealthy($"this silo is {status}"));
    }
}

/// <summary>
/// The PostgreSQL ledger writer's latest round trip committed. A failure counts for
/// <see cref="FailureHolds"/> after it happened when nothing was written since: the next write tells.
/// </summary>
internal sealed class LedgerWriterHealthCheck(IMemberLedger ledger) : IHealthCheck
{
    public static readonly TimeSpan FailureHolds = TimeSpan.FromSeconds(15);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (ledger is not PostgresMemberLedger writer) return Task.FromResult(HealthCheckResult.Healthy($"ledger: {ledger.GetType().Name}"));
        return Task.FromResult(writer.Failing is { } failing && DateTimeOffset.UtcNow - failing.At < FailureHolds
            ? HealthCheckResult.Unhealthy($"the ledger writer's last commit failed at {failing.At:O} (the node's log says why)")
            : HealthCheckResult.Healthy($"{writer.RoundTrips} commits, {writer.Appends} appends"));
    }
}
