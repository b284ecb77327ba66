using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Membership.Silo;
using Orleans.Membership.Tests.Support;
using Orleans.Runtime;

namespace Orleans.Membership.Tests.Operations;

/// <summary>A silo short of memory lets members go (they reload on their next call) rather than run out.</summary>
public sealed class MemberSheddingTests
{
    [Fact]
    public async Task A_node_short_of_memory_sheds_members_and_they_come_back_whole()
    {
        // Any process uses more than 0.01% of the machine's memory: this node is always short of it.
        var node = new SheddingNode();
        await node.InitializeAsync();
        try
        {
            var members = Enumerable.Range(0, 40).Select(i => $"shed-{i}").ToArray();
            var events = string.Join(",", members.Select(m => $$"""{"eventId":"{{m}}-e1","memberId":"{{m}}","type":"order.paid","orderId":"{{m}}-o1","amount":120}"""));
            Assert.Equal(HttpStatusCode.OK, (await node.Http.Post("/v1/programs/default/events", $$"""{"events":[{{events}}]}""")).Status);
            var before = (await node.Http.Get($"/v1/programs/default/members/{members[0]}")).Body.GetRawText();

            var management = node.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            int active;
            do
            {
                // Orleans sheds only after a full collection since its last shedding: a loaded node has them anyway.
                GC.Collect();
                active = (await management.GetSimpleGrainStatistics())
                    .Where(s => s.GrainType.Contains(nameof(Orleans.Membership.Grains.MemberGrain), StringComparison.Ordinal)).Sum(s => s.ActivationCount);
                if (active < members.Length) break;
                await Task.Delay(200);
            }
            while (DateTime.UtcNow < deadline);

            Assert.True(active < members.Length, $"{active} of {members.Length} members still active after a minute short of memory");
            Assert.Equal(before, (await node.Http.Get($"/v1/programs/default/members/{members[0]}")).Body.GetRawText());
        }
        finally
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_node_hands_its_shedding_settings_to_Orleans()
    {
        await using var app = MembershipNode.Build(["--urls", "http://127.0.0.1:0", .. FreePorts.SiloAndGateway(), "--Membership:Members:ShedAtMemoryPercent=90", "--Membership:Members:ShedToMemoryPercent=85"]);
        var collection = app.Services.GetRequiredService<IOptions<GrainCollectionOptions>>().Value;

        Assert.True(collection.EnableActivationSheddingOnMemoryPressure);
        Assert.Equal(90, collection.MemoryUsageLimitPercentage);
        Assert.Equal(85, collection.MemoryUsageTargetPercentage);
        await using var never = MembershipNode.Build(["--urls", "http://127.0.0.1:0", .. FreePorts.SiloAndGateway(), "--Membership:Members:ShedAtMemoryPercent=0"]);
        Assert.False(never.Services.GetRequiredService<IOptions<GrainCollectionOptions>>().Value.EnableActivationSheddingOnMemoryPressure);
    }

    [Theory]
    [InlineData("ShedAtMemoryPercent", "101", "ShedAtMemoryPercent")]
    [InlineData("ShedAtMemoryPercent", "-1", "ShedAtMemoryPercent")]
    [InlineData("ShedToMemoryPercent", "80", "ShedToMemoryPercent")]
    [InlineData("ShedToMemoryPercent", "0", "ShedToMemoryPercent")]
    public void A_node_with_a_bad_shedding_setting_is_refused_naming_it(string setting, string value, string named)
    {
        var e = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => MembershipNode.Build(
            ["--urls", "http://127.0.0.1:0", .. FreePorts.SiloAndGateway(), $"--Membership:Members:{setting}={value}"]));
        Assert.StartsWith($"Membership:Members:{named} must be", e.Message);
    }

    private sealed class SheddingNode : NodeFixture
    {
        protected override IEnumerable<string> ExtraArgs => ["--Membership:Members:ShedAtMemoryPercent=0.01", "--Membership:Members:ShedToMemoryPercent=0.005"];
    }
}
