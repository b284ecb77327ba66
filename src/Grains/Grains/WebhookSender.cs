using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Domain;
using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Grains;

/// <summary>Retries, timeouts and reachable networks of webhook deliveries (<c>Membership:Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Membership:Webhooks";

    /// <summary>Attempts per change and URL before it is parked as a dead letter.</summary>
    public int MaxAttempts { get; set; } = 8;
    /// <summary>The wait before the second attempt; it doubles after each failure, up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(5);
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>Deliveries in flight at once per program.</summary>
    public int MaxConcurrent { get; set; } = 16;
    /// <summary>Networks (CIDR) webhooks may reach besides public addresses: on-premises receivers, tests.</summary>
    public string[] AllowedNetworks { get; set; } = [];

    /// <summary>What is wrong with these settings, naming the setting; null when nothing is.</summary>
    public string? Problem()
    {
        // The upper bounds of the durations catch a bare number, which configuration reads as days.
        if (MaxAttempts is < 1 or > 100) return $"{Section}:MaxAttempts must be from 1 to 100, not {MaxAttempts}";
        if (MaxDelay <= TimeSpan.Zero || MaxDelay > TimeSpan.FromDays(1)) return $"{Section}:MaxDelay must be above 0 and at most 1 day (e.g. 00:05:00), not {MaxDelay}";
        if (FirstRetryDelay <= TimeSpan.Zero || FirstRetryDelay > MaxDelay) return $"{Section}:FirstRetryDelay must be above 0 and at most MaxDelay ({MaxDelay}), not {FirstRetryDelay}";
        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromMinutes(10)) return $"{Section}:Timeout must be above 0 and at most 10 minutes (e.g. 00:00:10), not {Timeout}";
        if (MaxConcurrent is < 1 or > 1000) return $"{Section}:MaxConcurrent must be from 1 to 1000, not {MaxConcurrent}";
        for (var i = 0; i < AllowedNetworks.Length; i++)
        {
            if (!WebhookAddresses.TryParseNetwork(AllowedNetworks[i], out _)) return WebhookAddresses.NetworkRule(i, AllowedNetworks[i]);
        }
        return null;
    }
}

/// <summary>
/// POSTs one change as JSON, signed as the Standard Webhooks specification says: <c>webhook-id</c> (the
/// change id), <c>webhook-timestamp</c> (Unix seconds) and <c>webhook-signature: v1,base64(HMAC-SHA256(key,
/// "{id}.{timestamp}.{body}"))</c>. It connects only to addresses <see cref="WebhookAddresses"/> allows,
/// checked on the resolved addresses as the connection is made (a name re-pointed after registration gains
/// nothing), through no proxy, and follows no redirect.
/// </summary>
public sealed class WebhookSender
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";
    public const string SecretPrefix = "whsec_";

    private readonly TimeProvider _clock;
    private readonly HttpClient _http;

    public WebhookSender(TimeProvider clock, WebhookAddresses addresses)
    {
        _clock = clock;
        _http = new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AllowAutoRedirect = false,
            UseProxy = false,
            ConnectCallback = (context, cancellation) => ConnectAsync(addresses, context.DnsEndPoint, cancellation),
        })
        {
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>Resolves the host, keeps the allowed addresses, and connects to one of them: nothing else is ever dialled.</summary>
    private static async ValueTask<Stream> ConnectAsync(WebhookAddresses addresses, DnsEndPoint endpoint, CancellationToken cancellation)
    {
        var host = endpoint.Host.Trim('[', ']');
        var resolved = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellation);
        var allowed = Array.FindAll(resolved, addresses.Allows);
        if (allowed.Length == 0) throw new WebhookAddressRefusedException(host);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endpoint.Port, cancellation);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The HMAC key of a secret: the bytes after <c>whsec_</c> in base64 (the specification's form), or the
    /// UTF-8 bytes of a secret without the prefix (the same key as <c>whsec_</c> + their base64).
    /// </summary>
    public static byte[] Key(string secret)
        => secret.StartsWith(SecretPrefix, StringComparison.Ordinal)
            ? Convert.FromBase64String(secret[SecretPrefix.Length..])
            : Encoding.UTF8.GetBytes(secret);

    /// <summary>Why a secret cannot sign deliveries, or null.</summary>
    public static string? SecretProblem(string secret)
    {
        if (!secret.StartsWith(SecretPrefix, StringComparison.Ordinal))
        {
            return secret.Length is < 16 or > 256 ? "must be 16 to 256 characters, or whsec_ and the base64 of 24 to 64 random bytes" : null;
        }
        var key = new byte[secret.Length];
        if (!Convert.TryFromBase64String(secret[SecretPrefix.Length..], key, out var length)) return "must be base64 after whsec_";
        return length is < 24 or > 64 ? "must be whsec_ and the base64 of 24 to 64 random bytes" : null;
    }

    /// <summary>The <c>webhook-signature</c> value of a delivery.</summary>
    public static string Sign(string secret, string id, string timestamp, string body)
    {
        var mac = HMACSHA256.HashData(Key(secret), Encoding.UTF8.GetBytes(string.Concat(id, ".", timestamp, ".", body)));
        return "v1," + Convert.ToBase64String(mac);
    }

    /// <summary>Null when the receiver answered 2xx; otherwise the cause in a word (<see cref="Cause"/>, <c>http-503</c>).</summary>
    public async Task<string?> SendAsync(WebhookTarget target, MemberChange change, TimeSpan timeout)
    {
        var body = JsonSerializer.Serialize(change, DomainJson.Default.MemberChange);
        var timestamp = _clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url)
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.Add(IdHeader, change.Id);
        request.Headers.Add(TimestampHeader, timestamp);
        request.Headers.Add(SignatureHeader, Sign(target.Secret, change.Id, timestamp, body));
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            using var response = await _http.SendAsync(request, cts.Token);
            return response.IsSuccessStatusCode ? null : $"http-{(int)response.StatusCode}";
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or WebhookAddressRefusedException)
        {
            return Cause(e);
        }
    }

    /// <summary>
    /// A failed delivery's cause in a word: <c>blocked-address</c>, <c>dns</c>, <c>refused</c>, <c>unreachable</c>,
    /// <c>reset</c>, <c>timeout</c>, <c>tls</c>, <c>protocol</c>, <c>network</c>. Never the socket's own words:
    /// dead letters must not tell an admin which internal ports are open.
    /// </summary>
    public static string Cause(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case WebhookAddressRefusedException: return "blocked-address";
                case OperationCanceledException or TimeoutException: return "timeout";
                case AuthenticationException: return "tls";
            }
        }
        var kind = (error as HttpRequestException)?.HttpRequestError;
        if (kind == HttpRequestError.SecureConnectionError) return "tls";
        if (kind == HttpRequestError.NameResolutionError) return "dns";
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => "dns",
                    SocketError.ConnectionRefused => "refused",
                    SocketError.TimedOut => "timeout",
                    SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostDown or SocketError.NetworkDown => "unreachable",
                    SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown => "reset",
                    _ => "network",
                };
            }
        }
        return kind is HttpRequestError.HttpProtocolError or HttpRequestError.InvalidResponse or HttpRequestError.ResponseEnded
            or HttpRequestError.ConfigurationLimitExceeded or HttpRequestError.VersionNegotiationError ? "protocol" : "network";
    }
}

/// <summary>A webhook's host resolved to no address deliveries may reach.</summary>
public sealed class WebhookAddressRefusedException(string host) : Exception($"'{host}' resolves to no address webhooks may reach");
