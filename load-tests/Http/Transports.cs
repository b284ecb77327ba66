using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Orleans.Membership.LoadTests.Harness;

namespace Orleans.Membership.LoadTests.Http;

/// <summary>What the scenarios send their requests through.</summary>
public interface IHttpTransport : IDisposable
{
    /// <summary>
    /// Sends one request (a JSON body when <paramref name="json"/> is given) and reads the whole answer;
    /// with <paramref name="keepBody"/> a 2xx answer's text comes back in <see cref="Response.Body"/>.
    /// A failure's message names the status, the route and the problem's detail.
    /// </summary>
    Task<Response> Send(HttpMethod method, string path, string? json, CancellationToken ct, bool keepBody = false);
}

/// <summary>Which transport <c>--client</c> chose.</summary>
public enum ClientKind
{
    /// <summary><see cref="LeanHttp"/>: plain HTTP/1.1 on sockets, the default for http targets.</summary>
    Lean,
    /// <summary>.NET's <see cref="HttpClient"/>: https, or a second opinion on the lean client.</summary>
    HttpClient,
}

public static partial class Transports
{
    public static IHttpTransport Create(ClientKind kind, Uri target, int connections, string? apiKey)
    {
        var headers = apiKey is null ? [] : new[] { KeyValuePair.Create("X-Api-Key", apiKey) };
        return kind == ClientKind.Lean
            ? new LeanHttp(target, connections, headers, TimeSpan.FromSeconds(10))
            : new HttpClientTransport(target, connections, headers);
    }

    /// <summary>The most of an answer's text a request keeps: a batch of 1,000 events all rejected fits.</summary>
    internal const int MaxKeptBody = 512 * 1024;

    /// <summary>The most of a failure's answer kept to name its reason.</summary>
    internal const int MaxKeptFailure = 2048;

    /// <summary>The response a step records: ok for 2xx, else a failure naming the status, method, route and the problem's detail.</summary>
    internal static Response Outcome(int status, long bytes, HttpMethod method, string path, string? body = null)
        => status is >= 200 and < 300
            ? Response.Ok(status, bytes, body)
            : Response.Fail(status, $"HTTP {status} {method} {Route(path)}" + (ProblemDetail(body) is { } why ? ": " + why : ""), bytes);

    /// <summary>
    /// A request's path without its query and with the population's member ids as <c>{m}</c>: failures of
    /// one cause over many members are counted as one.
    /// </summary>
    internal static string Route(string path) => Members(path.Split('?')[0]);

    /// <summary>The load's member ids (m0, m1234...) in a path or a message, as <c>{m}</c>.</summary>
    internal static string Members(string text) => MemberId().Replace(text, "{m}");

    /// <summary>What a problem+json answer says went wrong (its detail, else its first field error, else its title), member ids as <c>{m}</c>.</summary>
    internal static string? ProblemDetail(string? body)
    {
        if (string.IsNullOrWhiteSpace(body)) return null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                foreach (var field in errors.EnumerateObject())
                {
                    var first = field.Value.ValueKind == JsonValueKind.Array && field.Value.GetArrayLength() > 0 ? field.Value[0].ToString() : field.Value.ToString();
                    return Members($"{field.Name}: {first}");
                }
            }
            foreach (var name in (string[])["detail", "title"])
            {
                if (root.TryGetProperty(name, out var text) && text.ValueKind == JsonValueKind.String) return Members(text.GetString()!);
            }
            return null;
        }
        catch (JsonException)
        {
            return null; // not JSON, or cut at the kept length: the status and route still name the failure
        }
    }

    [GeneratedRegex(@"\bm\d+\b")]
    private static partial Regex MemberId();
}

/// <summary>
/// Requests through <see cref="HttpClient"/> (SocketsHttpHandler, one pool of connections). At most as many
/// requests as connections are sent at once, so a request waits here, not in the handler's pool, and its
/// service time starts when it has a connection (<see cref="ServiceClock"/>).
/// </summary>
public sealed class HttpClientTransport : IHttpTransport
{
    private readonly HttpClient _client;
    private readonly SemaphoreSlim _slots;

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
        _slots = new SemaphoreSlim(connections, connections);
        foreach (var (name, value) in headers) _client.DefaultRequestHeaders.Add(name, value);
    }

    public async Task<Response> Send(HttpMethod method, string path, string? json, CancellationToken ct, bool keepBody = false)
    {
        await _slots.WaitAsync(ct);
        ServiceClock.Connected();
        try
        {
            using var request = new HttpRequestMessage(method, path);
            if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
            var content = await response.Content.ReadAsByteArrayAsync(ct);
            var status = (int)response.StatusCode;
            var ok = status is >= 200 and < 300;
            var keep = ok ? (keepBody ? Transports.MaxKeptBody : 0) : Transports.MaxKeptFailure;
            var body = keep > 0 ? Encoding.UTF8.GetString(content, 0, Math.Min(content.Length, keep)) : null;
            return Transports.Outcome(status, content.LongLength, method, path, body);
        }
        finally
        {
            _slots.Release();
        }
    }

    public void Dispose() => _client.Dispose();
}
