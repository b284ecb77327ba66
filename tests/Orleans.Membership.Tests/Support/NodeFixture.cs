using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Membership.Silo;

namespace Orleans.Membership.Tests.Support;

/// <summary>
/// A real embedded node on 127.0.0.1 with its own free ports, driven over real HTTP. Subclasses add
/// configuration (API keys) or a manual clock.
/// </summary>
public class NodeFixture : IAsyncLifetime
{
    private WebApplication? _app;
    public HttpClient Http { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;
    /// <summary>The node's services (its grain factory, its options).</summary>
    public IServiceProvider Services => _app!.Services;
    protected virtual IEnumerable<string> ExtraArgs => [];
    protected virtual void Configure(WebApplicationBuilder builder) { }

    public async Task InitializeAsync()
    {
        string[] args =
        [
            "--urls", "http://127.0.0.1:0",
            $"--Membership:SiloPort={FreePorts.Next()}",
            $"--Membership:GatewayPort={FreePorts.Next()}",
            $"--Membership:ClusterId=test-{Guid.NewGuid():N}",
            .. ExtraArgs,
        ];
        _app = MembershipNode.Build(args, Configure);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        BaseAddress = new Uri(address);
        Http = new HttpClient { BaseAddress = BaseAddress };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

/// <summary>
/// A node whose clock the tests set. The clock only moves forward (Orleans schedules on it too); a test that
/// needs its own calendar starts a node of its own at its first instant.
/// </summary>
public sealed class ClockedNodeFixture : NodeFixture
{
    public ManualClock Clock { get; private init; } = new(MemberHarness.At("2026-11-23T12:00:00+08:00"));
    protected override void Configure(WebApplicationBuilder builder) => builder.Services.AddSingleton<TimeProvider>(Clock);

    /// <summary>A started node whose clock reads <paramref name="start"/>.</summary>
    public static async Task<ClockedNodeFixture> StartAt(string start)
    {
        var node = new ClockedNodeFixture { Clock = new ManualClock(MemberHarness.At(start)) };
        await node.InitializeAsync();
        return node;
    }
}

/// <summary>A node with API keys for each role.</summary>
public sealed class KeyedNodeFixture : NodeFixture
{
    protected override IEnumerable<string> ExtraArgs =>
    [
        "--Membership:ApiKeys:0:Key=k-checkout", "--Membership:ApiKeys:0:Roles=checkout",
        "--Membership:ApiKeys:1:Key=k-ingest", "--Membership:ApiKeys:1:Roles=ingest",
        "--Membership:ApiKeys:2:Key=k-admin", "--Membership:ApiKeys:2:Roles=admin",
    ];
}

/// <summary>Small helpers for JSON over HTTP.</summary>
public static class Http
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static async Task<(HttpStatusCode Status, JsonElement Body)> Send(this HttpClient http, HttpMethod method, string path, string? json = null, string? apiKey = null)
    {
        var (status, body, _) = await http.SendRaw(method, path, json is null ? null : Json(json), apiKey);
        return (status, body);
    }

    public static Task<(HttpStatusCode Status, JsonElement Body)> Get(this HttpClient http, string path, string? apiKey = null) => http.Send(HttpMethod.Get, path, null, apiKey);
    public static Task<(HttpStatusCode Status, JsonElement Body)> Post(this HttpClient http, string path, string json, string? apiKey = null) => http.Send(HttpMethod.Post, path, json, apiKey);

    /// <summary>
    /// Sends a body exactly as given: <paramref name="contentType"/> null sends none. Every error answer must be
    /// problem+json; the answer's headers come back for the checks that need them (Retry-After).
    /// </summary>
    public static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseHeaders Headers)> SendRaw(
        this HttpClient http, HttpMethod method, string path, HttpContent? content, string? apiKey = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (apiKey is not null) request.Headers.Add("X-Api-Key", apiKey);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response.StatusCode, body, response.Headers);
    }

    /// <summary>A body of UTF-8 text with the content type given verbatim (null: no Content-Type header at all).</summary>
    public static ByteArrayContent Body(string text, string? contentType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        if (contentType is not null) content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    /// <summary>
    /// Writes <paramref name="request"/> to the node as is (header lines HttpClient would merge or refuse) and
    /// reads the whole answer; the request should ask <c>Connection: close</c>.
    /// </summary>
    public static async Task<string> RawRequest(Uri node, string request)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var client = new TcpClient();
        await client.ConnectAsync(node.Host, node.Port, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), timeout.Token);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(timeout.Token);
    }

    /// <summary>The first error message of a 400 for a field path.</summary>
    public static string ErrorFor(this JsonElement problem, string field) => problem.GetProperty("errors").GetProperty(field)[0].GetString()!;
}
