using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Operations;

/// <summary>Every line a node logs, with its category and level, as the console would get it.</summary>
public sealed class LogCapture : ILoggerProvider
{
    public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => capture.Lines.Enqueue((category, logLevel, formatter(state, exception)));
    }
}

public class LoggedNodeFixture : NodeFixture
{
    public LogCapture Log { get; } = new();
    protected override void Configure(WebApplicationBuilder builder) => builder.Logging.AddProvider(Log);
}

public sealed class NodeLogTests(LoggedNodeFixture node) : IClassFixture<LoggedNodeFixture>
{
    [Fact]
    public void The_nodes_own_start_up_lines_are_logged_at_information()
    {
        var lines = node.Log.Lines.ToArray();
        Assert.Contains(lines, l => l.Category == "Orleans.Membership.Silo.ShippedPrograms" && l.Level == LogLevel.Information && l.Message == "Program default v1 ready");
        Assert.Contains(lines, l => l.Category == "Orleans.Membership.Silo.MembershipNode" && l.Message.StartsWith("EMBEDDED MODE", StringComparison.Ordinal));
    }

    [Fact]
    public void The_Orleans_runtimes_categories_log_warnings_only()
    {
        var runtime = node.Log.Lines.Where(l => l.Category.StartsWith("Orleans.", StringComparison.Ordinal) && !l.Category.StartsWith("Orleans.Membership.", StringComparison.Ordinal)).ToArray();
        Assert.All(runtime, l => Assert.True(l.Level >= LogLevel.Warning, $"{l.Category} logged at {l.Level}: {l.Message}"));
    }
}

public sealed class NatsUrlWithoutProviderFixture : LoggedNodeFixture
{
    protected override IEnumerable<string> ExtraArgs => ["--Membership:Streams:Nats:Url=nats://127.0.0.1:4222"];
}

public sealed class NatsUrlWithoutProviderTests(NatsUrlWithoutProviderFixture node) : IClassFixture<NatsUrlWithoutProviderFixture>
{
    [Fact]
    public void A_nats_url_without_the_nats_provider_is_warned_about_at_start()
    {
        Assert.Contains(node.Log.Lines, l => l.Level == LogLevel.Warning
            && l.Message == "Membership:Streams:Nats:Url is set but Membership:Streams:Provider is memory: nothing is read from NATS (set the provider to nats)");
    }
}
