using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Domain;
using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Grains;

/// <summary>Retries and timeouts of webhook deliveries.</summary>
public sealed class WebhookOptions
{
    /// <summary>Attempts per change and URL before it is parked as a dead letter.</summary>
    public int MaxAttempts { get; set; } = 8;
    /// <summary>The wait before the second attempt; it doubles after each failure, up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(5);
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>Deliveries in flight at once per program.</summary>
    public int MaxConcurrent { get; set; } = 16;
}

/// <summary>
/// POSTs one change as JSON, signed: <c>X-Membership-Timestamp</c> (Unix seconds) and
/// <c>X-Membership-Signature: v1=hex(HMAC-SHA256(secret, timestamp + "." + body))</c>.
/// </summary>
public sealed class WebhookSender(TimeProvider clock)
{
    public const string TimestampHeader = "X-Membership-Timestamp";
    public const string SignatureHeader = "X-Membership-Signature";
    public const string DeliveryHeader = "X-Membership-Delivery";

    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        Timeout = System.Threading.Timeout.InfiniteTimeSpan,
    };

    public static string Sign(string secret, string timestamp, string body)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(string.Concat(timestamp, ".", body)));
        return "v1=" + Convert.ToHexStringLower(mac);
    }

    /// <summary>Null when the receiver answered 2xx; otherwise what went wrong.</summary>
    public async Task<string?> SendAsync(WebhookTarget target, MemberChange change, TimeSpan timeout)
    {
        var body = JsonSerializer.Serialize(change, DomainJson.Default.MemberChange);
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url)
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.Add(TimestampHeader, timestamp);
        request.Headers.Add(SignatureHeader, Sign(target.Secret, timestamp, body));
        request.Headers.Add(DeliveryHeader, change.Id);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            using var response = await _http.SendAsync(request, cts.Token);
            return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return e is OperationCanceledException ? $"no answer within {timeout.TotalSeconds:0.#} s" : e.Message;
        }
    }
}
