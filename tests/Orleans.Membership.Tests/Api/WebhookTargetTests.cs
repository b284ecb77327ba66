using System.Net;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Api;

/// <summary>
/// Webhook targets on a node with no allow-list: an admin cannot point the engine at itself, its database,
/// the cloud's metadata service or anything else on a private network, however the address is spelled.
/// </summary>
[Collection(ClockedNodeCollection.Name)]
public sealed class WebhookTargetTests(ClockedNodeFixture node)
{
    private const string Secret = "a-secret-of-some-length";
    private static int s_ids;

    private async Task<string> NewProgram()
    {
        var id = $"targets-{Interlocked.Increment(ref s_ids)}-{Guid.NewGuid():N}"[..24];
        Assert.Equal(HttpStatusCode.OK, (await node.Http.Send(HttpMethod.Put, $"/v1/programs/{id}", TestPrograms.Json("default"))).Status);
        return id;
    }

    [Theory]
    [InlineData("http://127.0.0.1:5432/")]
    [InlineData("http://localhost/hook")]
    [InlineData("http://LOCALHOST./hook")]
    [InlineData("http://api.localhost/hook")]
    [InlineData("http://127.1/hook")]
    [InlineData("http://2130706433/hook")]
    [InlineData("http://0x7f000001/hook")]
    [InlineData("http://0177.0.0.1/hook")]
    [InlineData("http://0.0.0.0/hook")]
    [InlineData("http://[::]/hook")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://[::ffff:127.0.0.1]/hook")]
    [InlineData("http://[::ffff:10.1.2.3]/hook")]
    [InlineData("http://[::127.0.0.1]/hook")]
    [InlineData("http://[64:ff9b::7f00:1]/hook")]
    [InlineData("http://[2002:a00:1::]/hook")]
    [InlineData("http://10.0.0.1/hook")]
    [InlineData("http://172.16.0.1/hook")]
    [InlineData("http://172.31.255.254/hook")]
    [InlineData("http://192.168.0.10/hook")]
    [InlineData("http://100.64.0.1/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://224.0.0.1/hook")]
    [InlineData("http://255.255.255.255/hook")]
    [InlineData("http://[fd00::1]/hook")]
    [InlineData("http://[fc00::1]/hook")]
    [InlineData("http://[fe80::1]/hook")]
    [InlineData("http://[fe80::1%25eth0]/hook")]
    [InlineData("http://[ff02::1]/hook")]
    [InlineData("https://user:password@example.com/hook")]
    public async Task A_target_on_a_private_network_is_400_and_changes_nothing(string url)
    {
        var program = await NewProgram();
        var (status, problem) = await node.Http.Send(HttpMethod.Put, $"/v1/programs/{program}/webhooks",
            $$"""{"webhooks":[{"url":"https://hooks.example.com/kept","secret":"{{Secret}}"},{"url":"{{url}}","secret":"{{Secret}}"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(problem.ErrorFor("webhooks[1].url"));
        Assert.Empty((await node.Http.Get($"/v1/programs/{program}/webhooks")).Body.GetProperty("webhooks").EnumerateArray());
    }

    [Theory]
    [InlineData("https://hooks.example.com/membership")]
    [InlineData("http://93.184.215.14:8080/hook")]
    [InlineData("https://[2606:4700::1111]/hook")]
    [InlineData("https://172.32.0.1/hook")]
    public async Task A_target_on_a_public_address_is_taken(string url)
    {
        var program = await NewProgram();
        var (status, body) = await node.Http.Send(HttpMethod.Put, $"/v1/programs/{program}/webhooks", $$"""{"webhooks":[{"url":"{{url}}","secret":"{{Secret}}"}]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(url, body.GetProperty("webhooks")[0].GetProperty("url").GetString());
        Assert.Equal(HttpStatusCode.OK, (await node.Http.Send(HttpMethod.Put, $"/v1/programs/{program}/webhooks", """{"webhooks":[]}""")).Status);
    }
}
