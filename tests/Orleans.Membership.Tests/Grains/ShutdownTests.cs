using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Grains;

public sealed class ShutdownTests
{
    /// <summary>
    /// An embedded node keeps snapshots in memory, which die with it; at shutdown the memory storage's
    /// grains are already going, and every member with history used to fail its snapshot there, loudly.
    /// </summary>
    [Fact]
    public async Task An_embedded_node_shuts_down_without_snapshot_errors()
    {
        var logs = new LogCapture();
        var node = new LoggedNodeFixture(logs);
        await node.InitializeAsync();
        var events = string.Join(",", Enumerable.Range(0, 400).Select(i =>
            $$"""{"eventId":"sd-{{i}}","memberId":"m{{i % 20}}","type":"order.paid","orderId":"o{{i}}","amount":100}"""));
        var (status, _) = await node.Http.Post("/v1/programs/default/events", $$"""{"events":[{{events}}]}""");
        Assert.Equal(HttpStatusCode.OK, status);

        await node.DisposeAsync();

        var snapshotFailures = logs.Entries.Where(e => e.Category.Contains("Storage") || e.Message.Contains("Snapshot")).Select(e => $"{e.Category}: {e.Message}").ToList();
        Assert.True(snapshotFailures.Count == 0, string.Join("\n", snapshotFailures.Take(3)));
    }

    private sealed class LoggedNodeFixture(LogCapture logs) : NodeFixture
    {
        protected override void Configure(WebApplicationBuilder builder) => builder.Logging.AddProvider(logs);
    }

    private sealed class LogCapture : ILoggerProvider
    {
        public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Entries { get; } = new();
        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
        public void Dispose() { }

        private sealed class Logger(LogCapture owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => owner.Entries.Enqueue((category, logLevel, formatter(state, exception)));
        }
    }
}
