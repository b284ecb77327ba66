using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Orleans.Membership.Benchmarks;

/// <summary>
/// What an Orleans activation costs before any member state: a silo in this process activates that many
/// grains that hold nothing (keyed like members, "default/m{i}"), and the live heap after a full
/// collection is compared with the heap before. The floor under docs/benchmarks.md's bytes per member.
/// </summary>
public static class ActivationFloor
{
    public static async Task Run(int count)
    {
        using var host = Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            .UseOrleans(silo => silo.UseLocalhostClustering(11190, 30190))
            .Build();
        await host.StartAsync();
        var grains = host.Services.GetRequiredService<IGrainFactory>();
        await Activate(grains, 0, 1_000); // the runtime's own first-use allocations, out of the measure
        var before = LiveHeap();
        await Activate(grains, 1_000, 1_000 + count);
        var after = LiveHeap();
        Console.WriteLine($"{count:N0} empty grains: {(after - before) / (double)count:N0} bytes per activation");
        await host.StopAsync();
    }

    private static async Task Activate(IGrainFactory grains, int from, int to)
    {
        for (var i = from; i < to; i += 1_000)
        {
            await Task.WhenAll(Enumerable.Range(i, Math.Min(1_000, to - i)).Select(k => grains.GetGrain<IEmptyGrain>($"default/m{k}").Ping()));
        }
    }

    private static long LiveHeap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}

public interface IEmptyGrain : IGrainWithStringKey
{
    Task Ping();
}

public sealed class EmptyGrain : Grain, IEmptyGrain
{
    public Task Ping() => Task.CompletedTask;
}
