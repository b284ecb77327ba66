using Microsoft.Extensions.DependencyInjection;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Grains;

namespace Orleans.Membership.Tests.Support;

/// <summary>What a test silo's member grains need, with the ledger, clock and due-time index the test chooses.</summary>
public static class TestSilo
{
    public static IServiceCollection AddMemberGrainServices(this IServiceCollection services,
        Func<IServiceProvider, IMemberLedger> ledger, TimeProvider clock, Func<IServiceProvider, IDueIndex> dueIndex)
    {
        services.AddSingleton<IMemberLedger>(ledger);
        services.AddSingleton<TimeProvider>(clock);
        services.AddSingleton<ProgramCatalog>();
        services.AddSingleton<MemberReadModel>();
        services.AddSingleton<MemberChangePublisher>();
        services.AddSingleton<MemberGrainServices>();
        services.AddSingleton<StreamIngestStats>();
        services.AddSingleton(new WebhookAddresses([]));
        services.AddSingleton<WebhookSender>();
        services.AddMetrics();
        services.AddSingleton<MembershipMetrics>();
        services.AddSingleton<IDueIndex>(dueIndex);
        services.AddMemberSnapshotSerializer<Orleans.Configuration.MemoryGrainStorageOptions>();
        return services;
    }
}
