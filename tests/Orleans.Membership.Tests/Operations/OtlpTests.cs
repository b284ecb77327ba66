using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Operations;

/// <summary>An OTLP/HTTP receiver on loopback that only counts what arrives, by path (/v1/traces, /v1/metrics).</summary>
public sealed class OtlpReceiver : IAsyncLifetime
{
    private WebApplication? _app;
    public ConcurrentDictionary<string, int> Posts { get; } = new();
    public Uri Url { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            if (body.Length > 0) Posts.AddOrUpdate(signal, 1, (_, n) => n + 1);
            return Results.Ok();
        });
        await _app.StartAsync();
        Url = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
    }

    public async Task DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }
}

public sealed class OtlpNodeFixture : IAsyncLifetime
{
    public OtlpReceiver Receiver { get; } = new();
    public NodeFixture Node { get; private set; } = null!;

    private sealed class Exporting(Uri receiver) : NodeFixture
    {
        protected override IEnumerable<string> ExtraArgs =>
        [
            $"--Membership:Telemetry:OtlpEndpoint={receiver.ToString().TrimEnd('/')}",
            "--OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
            "--OTEL_METRIC_EXPORT_INTERVAL=500",
            "--OTEL_BSP_SCHEDULE_DELAY=200",
        ];
    }

    public async Task InitializeAsync()
    {
        await Receiver.InitializeAsync();
        Node = new Exporting(Receiver.Url);
        await Node.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        await Receiver.DisposeAsync();
    }
}

public sealed class OtlpTests(OtlpNodeFixture fixture) : IClassFixture<OtlpNodeFixture>
{
    [Fact]
    public async Task With_an_OTLP_endpoint_configured_traces_and_metrics_are_sent_there()
    {
        Assert.Equal(System.Net.HttpStatusCode.OK, (await fixture.Node.Http.GetAsync("/v1/programs/default/members/otlp-u1/benefits/free-shipping")).StatusCode);
        var deadline = Stopwatch.StartNew();
        while ((!fixture.Receiver.Posts.ContainsKey("traces") || !fixture.Receiver.Posts.ContainsKey("metrics")) && deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(100);
        }
        Assert.True(fixture.Receiver.Posts.ContainsKey("traces"), "no traces arrived");
        Assert.True(fixture.Receiver.Posts.ContainsKey("metrics"), "no metrics arrived");
    }
}
