using System.Net;
using System.Text.RegularExpressions;
using Orleans.Membership.Api.Operations;
using Orleans.Membership.Grains;
using Orleans.Membership.Tests.Postgres;

namespace Orleans.Membership.Tests.Operations;

/// <summary>docs/configuration.md names every key the code reads, and its sample file starts a node as the page says.</summary>
[Collection(PostgresCollection.Name), Trait("Category", "Postgres")]
public sealed class ConfigurationTests(PostgresFixture pg)
{
    private static readonly string Root = FindRoot();

    [Fact]
    public void The_configuration_page_names_every_Membership_key_the_code_reads()
    {
        var page = File.ReadAllText(Path.Combine(Root, "docs", "configuration.md"));
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Root, "src"), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)) continue;
            foreach (Match m in Regex.Matches(File.ReadAllText(file), "\"Membership:([A-Za-z]+(?::[A-Za-z]+)*)"))
            {
                keys.Add("Membership:" + m.Groups[1].Value);
            }
        }
        // Sections bound to option classes: each property is a key of its own.
        foreach (var (section, type) in new[] { ("Membership:Webhooks", typeof(WebhookOptions)), ("Membership:Notices", typeof(DueSweepOptions)), ("Membership:RateLimits:<role>", typeof(RoleRateLimit)), (Orleans.Membership.Api.Http.RequestLimits.Section, typeof(Orleans.Membership.Api.Http.RequestLimits)), ("Membership:Streams:Nats", typeof(Orleans.Membership.Silo.Nats.NatsIngestOptions)), (Orleans.Membership.Silo.MemberSheddingOptions.Section, typeof(Orleans.Membership.Silo.MemberSheddingOptions)) })
        {
            foreach (var property in type.GetProperties().Where(p => p.CanWrite)) keys.Add($"{section}:{property.Name}");
        }
        Assert.True(keys.Count > 30, string.Join(", ", keys));
        var missing = keys.Where(k => !page.Contains($"`{k}", StringComparison.Ordinal)).ToArray();
        Assert.True(missing.Length == 0, $"docs/configuration.md does not name: {string.Join(", ", missing)}");
    }

    [Fact]
    public async Task A_node_starts_with_the_commented_sample_as_its_appsettings()
    {
        var contentRoot = Directory.CreateTempSubdirectory("membership-node-").FullName;
        try
        {
            File.Copy(Path.Combine(Root, "docs", "appsettings.sample.json"), Path.Combine(contentRoot, "appsettings.json"));
            await using var node = await NodeProcess.StartAsync(pg.ConnectionString, "sample-" + Guid.NewGuid().ToString("N")[..8], settings: ["--contentRoot", contentRoot]);
            using var http = new HttpClient { BaseAddress = node.Url };
            const string check = "/v1/programs/default/members/sample-u1/benefits/free-shipping";
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(check)).StatusCode);
            using var request = new HttpRequestMessage(HttpMethod.Get, check) { Headers = { { "X-Api-Key", "change-me-checkout" } } };
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);
        }
        finally
        {
            Directory.Delete(contentRoot, recursive: true);
        }
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Orleans.Membership.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Orleans.Membership.sln not found above the test folder");
    }
}
