using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Grains;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Grains;

/// <summary>
/// The catalog re-checks a cached program once a second. When that check fails (the silo holding the
/// program grain just died), requests keep the cached program instead of failing.
/// </summary>
public sealed class ProgramCatalogTests
{
    private sealed class TickClock : TimeProvider
    {
        public long Ticks { get; set; }
        public override long GetTimestamp() => Ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public void Advance(TimeSpan by) => Ticks += by.Ticks;
    }

    private static ProgramDefinition Definition(int version) => new("default", version, TestPrograms.Json("default"));

    [Fact]
    public async Task A_failed_recheck_keeps_serving_the_cached_program_and_retries_an_interval_later()
    {
        var clock = new TickClock();
        var calls = 0;
        Func<string, Task<ProgramDefinition?>> load = _ => { calls++; return Task.FromResult<ProgramDefinition?>(Definition(1)); };
        var catalog = new ProgramCatalog(id => load(id), clock, NullLogger.Instance);

        var first = await catalog.GetAsync("default");
        Assert.Equal(1, first!.Version);

        load = _ => { calls++; throw new InvalidOperationException("Unable to connect to endpoint S127.0.0.1:40185"); };
        clock.Advance(ProgramCatalog.RefreshInterval + TimeSpan.FromMilliseconds(1));
        Assert.Same(first, await catalog.GetAsync("default"));
        Assert.Equal(2, calls);
        Assert.Same(first, await catalog.GetAsync("default")); // within the interval: no new check
        Assert.Equal(2, calls);

        load = _ => { calls++; return Task.FromResult<ProgramDefinition?>(Definition(2)); };
        clock.Advance(ProgramCatalog.RefreshInterval + TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, (await catalog.GetAsync("default"))!.Version);
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task With_nothing_cached_a_failed_load_is_the_callers_error()
    {
        var catalog = new ProgramCatalog(_ => throw new InvalidOperationException("store away"), new TickClock(), NullLogger.Instance);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await catalog.GetAsync("default"));
        Assert.Equal("store away", error.Message);
    }
}
