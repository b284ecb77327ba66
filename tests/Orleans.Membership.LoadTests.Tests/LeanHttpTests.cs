using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Orleans.Membership.LoadTests.Http;

namespace Orleans.Membership.LoadTests.Tests;

public sealed class LeanHttpTests
{
    private static readonly KeyValuePair<string, string>[] Key = [KeyValuePair.Create("X-Api-Key", "k1")];

    private static LeanHttp Client(ScriptedServer server, int connections = 4, double timeoutSeconds = 10)
        => new(new Uri(server.Url), connections, Key, TimeSpan.FromSeconds(timeoutSeconds));

    [Fact]
    public async Task Sends_the_request_as_written_and_counts_chunked_and_sized_bodies_that_arrive_in_pieces()
    {
        await using var server = ScriptedServer.Start(n => n switch
        {
            // Kestrel's framing for JSON: chunked, here with two chunks, an extension and a trailer, three bytes per write.
            0 => new Reply("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\n{\"a\":\r\n1A\r\n" + new string('b', 25) + "}\r\n0\r\nX-Trailer: t\r\n\r\n", WriteSize: 3),
            _ => new Reply("HTTP/1.1 201 Created\r\ncontent-length: 40000\r\n\r\n" + new string('c', 40_000), WriteSize: 1000),
        });
        using var http = Client(server);

        var first = await http.Send(HttpMethod.Get, "/v1/programs/default/members/m1/benefits/free-shipping?x=1", null, CancellationToken.None);
        var second = await http.Send(HttpMethod.Post, "/v1/programs/default/events", "{\"events\":[\"积分\"]}", CancellationToken.None);

        Assert.True(first.IsOk);
        Assert.Equal((200, 5 + 26), (first.StatusCode, first.SizeBytes));
        Assert.True(second.IsOk);
        Assert.Equal((201, 40_000), (second.StatusCode, second.SizeBytes));
        var requests = server.Requests.ToArray();
        Assert.Equal($"GET /v1/programs/default/members/m1/benefits/free-shipping?x=1 HTTP/1.1\r\nHost: {new Uri(server.Url).Authority}\r\nX-Api-Key: k1\r\n\r\n", requests[0]);
        var body = "{\"events\":[\"积分\"]}";
        Assert.Equal($"POST /v1/programs/default/events HTTP/1.1\r\nHost: {new Uri(server.Url).Authority}\r\nX-Api-Key: k1\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}", requests[1]);
        Assert.Equal(1, server.Accepted); // one keep-alive connection for both
    }

    [Fact]
    public async Task An_answer_that_is_not_2xx_fails_the_step_naming_status_method_and_path()
    {
        await using var server = ScriptedServer.Start(_ => new Reply("HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno"));
        using var http = Client(server);

        var response = await http.Send(HttpMethod.Get, "/v1/programs/p/members/m9/benefits/x?debug=1", null, CancellationToken.None);

        Assert.False(response.IsOk);
        Assert.Equal(404, response.StatusCode);
        Assert.Equal("HTTP 404 GET /v1/programs/p/members/{m}/benefits/x", response.Message); // one cause over many members counts once
    }

    [Fact]
    public async Task A_failure_names_the_problem_s_detail_and_a_kept_body_comes_back()
    {
        var problem = "{\"title\":\"Not Found\",\"status\":404,\"detail\":\"member 'm9' is not enrolled in program 'p'\"}";
        var invalid = "{\"title\":\"One or more validation errors occurred.\",\"status\":400,\"errors\":{\"amount\":[\"must be a number\"]}}";
        await using var server = ScriptedServer.Start(n => n switch
        {
            0 => new Reply($"HTTP/1.1 404 Not Found\r\nContent-Type: application/problem+json\r\nContent-Length: {problem.Length}\r\n\r\n{problem}"),
            1 => new Reply($"HTTP/1.1 400 Bad Request\r\nContent-Type: application/problem+json\r\nTransfer-Encoding: chunked\r\n\r\n{invalid.Length:x}\r\n{invalid}\r\n0\r\n\r\n"),
            _ => new Reply("HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{\"accepted\":1}", WriteSize: 4),
        });
        using var http = Client(server);

        var missing = await http.Send(HttpMethod.Post, "/v1/programs/p/members/m9/benefits/x/uses", "{}", CancellationToken.None);
        var bad = await http.Send(HttpMethod.Post, "/v1/programs/p/events", "{}", CancellationToken.None);
        var kept = await http.Send(HttpMethod.Post, "/v1/programs/p/events", "{}", CancellationToken.None, keepBody: true);

        Assert.Equal("HTTP 404 POST /v1/programs/p/members/{m}/benefits/x/uses: member '{m}' is not enrolled in program 'p'", missing.Message);
        Assert.Equal("HTTP 400 POST /v1/programs/p/events: amount: must be a number", bad.Message);
        Assert.Equal((true, "{\"accepted\":1}"), (kept.IsOk, kept.Body));
    }

    [Fact]
    public async Task Connection_close_is_honoured_and_the_next_request_opens_a_new_connection()
    {
        await using var server = ScriptedServer.Start(n => new Reply("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", Close: true));
        using var http = Client(server);

        for (var i = 0; i < 3; i++) Assert.True((await http.Send(HttpMethod.Get, "/healthz", null, CancellationToken.None)).IsOk);

        Assert.Equal(3, server.Accepted);
    }

    [Fact]
    public async Task A_request_on_a_kept_connection_the_node_has_closed_is_sent_again_on_a_new_one()
    {
        // The first answer says nothing of closing, then the server closes the connection (an idle timeout).
        await using var server = ScriptedServer.Start(n => new Reply("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", Close: n == 0));
        using var http = Client(server, connections: 1);

        var first = await http.Send(HttpMethod.Get, "/healthz", null, CancellationToken.None);
        await server.Closed(0);
        var second = await http.Send(HttpMethod.Get, "/healthz", null, CancellationToken.None);

        Assert.True(first.IsOk && second.IsOk);
        Assert.Equal(2, server.Accepted);
        Assert.Equal(2, server.Requests.Count); // the lost send never reached a server
    }

    [Fact]
    public async Task An_answer_cut_short_fails_the_request_and_is_not_sent_again()
    {
        await using var server = ScriptedServer.Start(n => new Reply("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this", Close: true));
        using var http = Client(server);

        var e = await Assert.ThrowsAsync<IOException>(() => http.Send(HttpMethod.Post, "/v1/programs/default/events", "{}", CancellationToken.None));

        Assert.Contains("closed the connection", e.Message);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_node_that_never_answers_fails_the_request_at_the_timeout()
    {
        await using var server = ScriptedServer.Start(_ => null);
        using var http = Client(server, timeoutSeconds: 0.3);

        var e = await Assert.ThrowsAsync<TimeoutException>(() => http.Send(HttpMethod.Get, "/healthz", null, CancellationToken.None));

        Assert.Contains("no answer to GET /healthz within 0.3 s", e.Message);
    }

    [Fact]
    public async Task Requests_beyond_the_connections_wait_for_a_free_one()
    {
        var release = new TaskCompletionSource();
        await using var server = ScriptedServer.Start(_ => new Reply("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", Before: release.Task));
        using var http = Client(server, connections: 2);

        var sends = Enumerable.Range(0, 6).Select(_ => http.Send(HttpMethod.Get, "/healthz", null, CancellationToken.None)).ToArray();
        await server.Received(2);
        Assert.Equal(2, server.Requests.Count); // the other four wait in the client, not on new connections
        release.SetResult();
        var responses = await Task.WhenAll(sends);

        Assert.All(responses, r => Assert.True(r.IsOk));
        Assert.Equal(2, server.Accepted);
        Assert.Equal(6, server.Requests.Count);
    }

    [Fact]
    public async Task Against_Kestrel_it_reads_what_HttpClient_reads()
    {
        await using var node = await FakeNode.StartAsync();
        using var lean = Transports.Create(ClientKind.Lean, new Uri(node.Url), 4, "k1");
        using var reference = Transports.Create(ClientKind.HttpClient, new Uri(node.Url), 4, "k1");

        var a = await lean.Send(HttpMethod.Get, "/healthz", null, CancellationToken.None);
        var b = await reference.Send(HttpMethod.Get, "/healthz", null, CancellationToken.None);
        var missingA = await lean.Send(HttpMethod.Get, "/nowhere", null, CancellationToken.None);
        var missingB = await reference.Send(HttpMethod.Get, "/nowhere", null, CancellationToken.None);

        Assert.Equal((true, 200, "{\"status\":\"ok\"}".Length), (a.IsOk, a.StatusCode, (int)a.SizeBytes));
        Assert.Equal(b, a);
        Assert.Equal(missingB, missingA);
        Assert.Equal(404, missingA.StatusCode);
    }
}

/// <summary>What the scripted server does with one request: the answer, written in pieces of WriteSize bytes.</summary>
internal sealed record Reply(string Text, int WriteSize = int.MaxValue, bool Close = false, Task? Before = null);

/// <summary>
/// A raw TCP server on 127.0.0.1 that answers the n-th request (over all connections) as the script says,
/// or never when the script gives null. It records each request's exact text and the connections it accepted.
/// </summary>
internal sealed class ScriptedServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<int, Reply?> _script;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _closed = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _received = new();
    private int _accepted, _numbered;

    private ScriptedServer(Func<int, Reply?> script) => _script = script;

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
    public int Accepted => Volatile.Read(ref _accepted);
    public ConcurrentQueue<string> Requests { get; } = new();

    public static ScriptedServer Start(Func<int, Reply?> script)
    {
        var server = new ScriptedServer(script);
        server._listener.Start();
        server._tasks.Add(server.AcceptLoop());
        return server;
    }

    /// <summary>Completes when the server has closed its side of the n-th request's connection.</summary>
    public Task Closed(int request) => _closed.GetOrAdd(request, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Completes when the server has received that many requests.</summary>
    public Task Received(int count) => _received.GetOrAdd(count - 1, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await _listener.AcceptSocketAsync(_stop.Token); }
            catch (OperationCanceledException) { return; }
            Interlocked.Increment(ref _accepted);
            lock (_tasks) _tasks.Add(Serve(socket));
        }
    }

    private async Task Serve(Socket socket)
    {
        using var _ = socket;
        var buffer = new List<byte>();
        var chunk = new byte[4096];
        try
        {
            while (true)
            {
                int headEnd;
                while ((headEnd = IndexOf(buffer, "\r\n\r\n"u8)) < 0)
                {
                    var read = await socket.ReceiveAsync(chunk, SocketFlags.None, _stop.Token);
                    if (read == 0) return;
                    buffer.AddRange(chunk.AsSpan(0, read));
                }
                var head = Encoding.UTF8.GetString(buffer.ToArray(), 0, headEnd + 4);
                var lengthLine = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
                var total = headEnd + 4 + (lengthLine is null ? 0 : int.Parse(lengthLine.Split(':')[1].Trim()));
                while (buffer.Count < total)
                {
                    var read = await socket.ReceiveAsync(chunk, SocketFlags.None, _stop.Token);
                    if (read == 0) return;
                    buffer.AddRange(chunk.AsSpan(0, read));
                }
                var n = Interlocked.Increment(ref _numbered) - 1;
                Requests.Enqueue(Encoding.UTF8.GetString(buffer.GetRange(0, total).ToArray()));
                buffer.RemoveRange(0, total);
                _received.GetOrAdd(n, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                var reply = _script(n);
                if (reply is null)
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                    return;
                }
                if (reply.Before is not null) await reply.Before.WaitAsync(_stop.Token);
                var bytes = Encoding.UTF8.GetBytes(reply.Text);
                for (var sent = 0; sent < bytes.Length;)
                {
                    sent += await socket.SendAsync(bytes.AsMemory(sent, Math.Min(reply.WriteSize, bytes.Length - sent)), SocketFlags.None, _stop.Token);
                }
                if (reply.Close)
                {
                    socket.Shutdown(SocketShutdown.Both);
                    _closed.GetOrAdd(n, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    private static int IndexOf(List<byte> buffer, ReadOnlySpan<byte> value)
    {
        for (var i = 0; i + value.Length <= buffer.Count; i++)
        {
            var match = true;
            for (var j = 0; j < value.Length && match; j++) match = buffer[i + j] == value[j];
            if (match) return i;
        }
        return -1;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        Task[] tasks;
        lock (_tasks) tasks = [.. _tasks];
        await Task.WhenAll(tasks);
    }
}
