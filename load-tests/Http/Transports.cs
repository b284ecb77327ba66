using System.Net;
using System.Text;
using Orleans.Membership.LoadTests.Harness;

namespace Orleans.Membership.LoadTests.Http;

/// <summary>What the scenarios send their requests through.</summary>
public interface IHttpTransport : IDisposable
{
    /// <summary>Sends one request (a JSON body when <paramref name="json"/> is given) and reads the whole answer.</summary>
    Task<Response> Send(HttpMethod method, string path, string? json, CancellationToken ct);
}

/// <summary>Which transport <c>--client</c> chose.</summary>
public enum ClientKind
{
    /// <summary><see cref="LeanHttp"/>: plain HTTP/1.1 on sockets, the default for http targets.</summary>
    Lean,
    /// <summary>.NET's <see cref="HttpClient"/>: https, or a second opinion on the lean client.</summary>
    HttpClient,
}

public static class Transports
{
    public static IHttpTransport Create(ClientKind kind, Uri target, int connections, string? apiKey)
    {
        var headers = apiKey is null ? [] : new[] { KeyValuePair.Create("X-Api-Key", apiKey) };
        return kind == ClientKind.Lean
            ? new LeanHttp(target, connections, headers, TimeSpan.FromSeconds(10))
            : new HttpClientTransport(target, connections, headers);
    }

    /// <summary>The response a step records: ok for 2xx, else a failure naming the status, method and path.</summary>
    internal static Response Outcome(int status, long bytes, HttpMethod method, string path)
        => status is >= 200 and < 300
            ? Response.Ok(status, bytes)
            : Response.Fail(status, $"HTTP {status} {method} {Route(path)}", bytes);

    /// <summary>A request's path without its query, as failures name it.</summary>
    internal static string Route(string path) => path.Split('?')[0];
}

/// <summary>Requests through <see cref="HttpClient"/> (SocketsHttpHandler, one pool of connections).</summary>
public sealed class HttpClientTransport : IHttpTransport
{
    private readonly HttpClient _client;

    public HttpClientTransport(Uri target, int connections, IEnumerable<KeyValuePair<string, string>> headers)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            AutomaticDecompression = DecompressionMethods.None,
        };
        _client = new HttpClient(handler) { BaseAddress = target, Timeout = TimeSpan.FromSeconds(10) };
        foreach (var (name, value) in headers) _client.DefaultRequestHeaders.Add(name, value);
    }

    public async Task<Response> Send(HttpMethod method, string path, string? json, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        var bytes = (await response.Content.ReadAsByteArrayAsync(ct)).LongLength;
        return Transports.Outcome((int)response.StatusCode, bytes, method, path);
    }

    public void Dispose() => _client.Dispose();
}
