using System.Diagnostics;
using System.Text;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Orleans.Membership.Silo.Nats;
using Orleans.Membership.Tests.Postgres;

namespace Orleans.Membership.Tests.Nats;

/// <summary>
/// A real nats-server (MEMBERSHIP_TEST_NATS, or started by scripts/nats-up.sh) and PostgreSQL. Every test
/// takes streams and subjects of its own (<see cref="NatsRun"/>), so tests never consume each other's events.
/// </summary>
public sealed class NatsFixture : IAsyncLifetime
{
    private readonly PostgresFixture _pg = new();
    public string Url { get; private set; } = "";
    public string ConnectionString => _pg.ConnectionString;
    public NatsConnection Connection { get; private set; } = null!;
    public NatsJSContext JetStream { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await _pg.InitializeAsync();
        Url = Environment.GetEnvironmentVariable("MEMBERSHIP_TEST_NATS") ?? await StartServer();
        Connection = new NatsConnection(new NatsOpts { Url = Url, Name = "membership-tests" });
        await Connection.ConnectAsync();
        JetStream = new NatsJSContext(Connection);
    }

    public async Task DisposeAsync()
    {
        await Connection.DisposeAsync();
        await _pg.DisposeAsync();
    }

    private static async Task<string> StartServer()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "scripts", "nats-up.sh"))) root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("scripts/nats-up.sh not found above the test folder");
        using var process = Process.Start(new ProcessStartInfo("bash", [Path.Combine(root, "scripts", "nats-up.sh")]) { RedirectStandardOutput = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"scripts/nats-up.sh failed with exit code {process.ExitCode}");
        return output.Trim().Split('\n')[^1];
    }
}

[CollectionDefinition(Name)]
public sealed class NatsCollection : ICollectionFixture<NatsFixture>
{
    public const string Name = "nats";
}

/// <summary>One test's streams, subjects and node settings; its streams are deleted at the end.</summary>
public sealed class NatsRun(NatsFixture nats, string name) : IAsyncDisposable
{
    public string Id { get; } = $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];

    public NatsIngestOptions Options => new()
    {
        Url = nats.Url,
        Stream = $"T_{Id.Replace('-', '_')}_EVENTS",
        Subject = $"t.{Id}.events",
        Consumer = "ingest",
        DeadLetterStream = $"T_{Id.Replace('-', '_')}_DEAD",
        DeadLetterSubject = $"t.{Id}.dead",
        PingInterval = TimeSpan.FromMilliseconds(500),
    };

    public IEnumerable<string> NodeSettings =>
    [
        "--Membership:Streams:Provider=nats", $"--Membership:Streams:Nats:Url={nats.Url}",
        $"--Membership:Streams:Nats:Stream={Options.Stream}", $"--Membership:Streams:Nats:Subject={Options.Subject}",
        $"--Membership:Streams:Nats:Consumer={Options.Consumer}", $"--Membership:Streams:Nats:DeadLetterStream={Options.DeadLetterStream}",
        $"--Membership:Streams:Nats:DeadLetterSubject={Options.DeadLetterSubject}", $"--Membership:Streams:Nats:PingInterval={Options.PingInterval}",
    ];

    public Task CreateStreamsAsync() => NatsTopology.EnsureStreamsAsync(nats.JetStream, Options, CancellationToken.None);

    /// <summary>Publishes with acknowledgement, as a producer must; the same Nats-Msg-Id again on a failure.</summary>
    public Task PublishAsync(string programId, string body, string? msgId = null) => PublishAsync(programId, Encoding.UTF8.GetBytes(body), msgId);

    /// <summary>Publishes bytes as they are (a producer's bug included).</summary>
    public async Task PublishAsync(string programId, byte[] body, string? msgId = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var ack = await nats.JetStream.PublishAsync($"{Options.Subject}.{programId}", body, opts: new NatsJSPubOpts { MsgId = msgId });
                if (!ack.Duplicate) ack.EnsureSuccess(); // a duplicate: an earlier try was stored
                return;
            }
            catch (NatsException) when (attempt < 10)
            {
                await Task.Delay(100 * attempt);
            }
        }
    }

    /// <summary>Waits until the consumer exists and every message published has been acknowledged.</summary>
    public async Task DrainedAsync(TimeSpan within, string? stream = null)
    {
        stream ??= Options.Stream;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var consumer = await nats.JetStream.GetConsumerAsync(stream, Options.Consumer);
                if (consumer.Info is { NumPending: 0, NumAckPending: 0 }) return;
            }
            catch (Exception e) when (IsBeingMade(e))
            {
            }
            Assert.True(deadline.Elapsed < within, $"the stream {stream} was not drained within {within}");
            await Task.Delay(200);
        }
    }

    public async Task<ulong> AcknowledgedUpToAsync()
    {
        try
        {
            return (await nats.JetStream.GetConsumerAsync(Options.Stream, Options.Consumer)).Info.AckFloor.StreamSeq;
        }
        catch (Exception e) when (IsBeingMade(e))
        {
            return 0;
        }
    }

    /// <summary>
    /// The consumer is not created yet, or a new dispatcher is making it again: asked in the moment it is
    /// deleted, nats-server 2.9 answers with no info and no error, which the client cannot read.
    /// </summary>
    private static bool IsBeingMade(Exception e) => e is NatsJSApiException or NatsDeserializeException;

    public sealed record DeadLetter(string Subject, string Kind, string Reason, string? Field, string Body, string? BodyOmitted = null, string? Code = null);

    public async Task<List<DeadLetter>> DeadLettersAsync()
    {
        var letters = new List<DeadLetter>();
        var consumer = await nats.JetStream.CreateOrderedConsumerAsync(Options.DeadLetterStream);
        while (true)
        {
            var got = 0;
            await foreach (var msg in consumer.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 1000 }))
            {
                got++;
                string? Header(string key) => msg.Headers is { } h && h.TryGetValue(key, out var v) ? v.ToString() : null;
                letters.Add(new DeadLetter(msg.Subject, Header(DeadLetterHeaders.Kind)!, Header(DeadLetterHeaders.Reason)!, Header(DeadLetterHeaders.Field),
                    msg.Data is null ? "" : Encoding.UTF8.GetString(msg.Data), Header(DeadLetterHeaders.BodyOmitted), Header(DeadLetterHeaders.Code)));
            }
            if (got == 0) return letters;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var stream in new[] { Options.Stream, Options.DeadLetterStream })
        {
            try
            {
                await nats.JetStream.DeleteStreamAsync(stream);
            }
            catch (NatsJSApiException)
            {
            }
        }
    }
}

/// <summary>A nats-server with JetStream on a port and a store of its own, that a test can kill and start again.</summary>
public sealed class RestartableBroker : IAsyncDisposable
{
    private readonly int _port = NodeProcess.Ports.Free().Http;
    private readonly string _store = Directory.CreateTempSubdirectory("membership-nats-").FullName;
    private Process? _server;

    public string Url => $"nats://127.0.0.1:{_port}";

    public static async Task<RestartableBroker> StartAsync()
    {
        var broker = new RestartableBroker();
        await broker.StartAgainAsync();
        return broker;
    }

    /// <summary>Starts the server on the same port and store, and waits until it takes connections.</summary>
    public async Task StartAgainAsync()
    {
        _server = Process.Start(new ProcessStartInfo("nats-server", ["-a", "127.0.0.1", "-p", $"{_port}", "-js", "-sd", _store])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                await probe.ConnectAsync("127.0.0.1", _port);
                return;
            }
            catch (System.Net.Sockets.SocketException) when (attempt < 100 && !_server.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>SIGKILL: what the broker had not written is gone, and every connection breaks.</summary>
    public void Kill()
    {
        _server!.Kill();
        _server.WaitForExit();
    }

    public ValueTask DisposeAsync()
    {
        if (_server is { HasExited: false }) Kill();
        _server?.Dispose();
        Directory.Delete(_store, recursive: true);
        return ValueTask.CompletedTask;
    }
}
