using System.Net;

namespace Orleans.Membership.Grains;

/// <summary>
/// Where webhooks may go: public addresses, and the networks an operator allow-lists
/// (<c>Membership:Webhooks:AllowedNetworks</c>, CIDRs). Loopback, private, shared, link-local, unique-local,
/// multicast, reserved and unspecified addresses are refused otherwise, also when an IPv6 address carries
/// one of them (IPv4-mapped, IPv4-compatible, NAT64, 6to4). Checked when a webhook is registered and again
/// on every address a host name resolves to when a delivery connects.
/// </summary>
public sealed class WebhookAddresses
{
    private static readonly IPNetwork[] NotPublic =
    [
        .. new[]
        {
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
            "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
            "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
            "::/96", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
        }.Select(IPNetwork.Parse),
    ];

    /// <summary>IPv6 prefixes whose addresses stand for an IPv4 address: NAT64 (in the last 4 bytes) and 6to4 (bytes 2 to 5).</summary>
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

    private readonly IPNetwork[] _allowed;

    public WebhookAddresses(IEnumerable<string>? allowedNetworks)
    {
        _allowed = [.. (allowedNetworks ?? []).Select((n, i) => TryParseNetwork(n, out var network)
            ? network
            : throw new InvalidOperationException(NetworkRule(i, n)))];
    }

    public static bool TryParseNetwork(string? text, out IPNetwork network)
    {
        network = default;
        return text is not null && IPNetwork.TryParse(text.Trim(), out network);
    }

    public static string NetworkRule(int index, string? text)
        => $"Membership:Webhooks:AllowedNetworks:{index} must be a network in CIDR notation, e.g. 10.20.0.0/16 or fd12:3456::/48, not '{text}'";

    /// <summary>Whether a delivery may connect to <paramref name="address"/>.</summary>
    public bool Allows(IPAddress address)
    {
        var a = Plain(address);
        if (IsPublic(a)) return true;
        foreach (var network in _allowed)
        {
            if (network.Contains(a)) return true;
        }
        return false;
    }

    /// <summary>Outside every network that is not the public internet.</summary>
    public static bool IsPublic(IPAddress address)
    {
        var a = Plain(address);
        foreach (var network in NotPublic)
        {
            if (network.Contains(a)) return false;
        }
        if (Embedded(a) is { } v4) return IsPublic(v4);
        return true;
    }

    /// <summary>
    /// Why a URL cannot be a webhook target, or null. Literal addresses are checked in every spelling the
    /// URL parser takes (<c>127.1</c>, <c>2130706433</c>, <c>0x7f000001</c> are all 127.0.0.1), and
    /// <c>localhost</c> names are refused; other names are checked where a delivery connects.
    /// </summary>
    public string? UrlProblem(string url)
    {
        if (url.Length > 2000) return "must be at most 2000 characters";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            return "must be an absolute http or https URL";
        }
        if (uri.UserInfo.Length > 0) return "must not carry a user name or password (the signature authenticates deliveries)";
        var host = uri.DnsSafeHost;
        var zone = host.IndexOf('%');
        if (zone >= 0) host = host[..zone];
        if (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 || IPAddress.TryParse(host, out _))
        {
            return IPAddress.TryParse(host, out var address) && Allows(address) ? null : Refused(host);
        }
        var name = host.TrimEnd('.').ToLowerInvariant();
        return name == "localhost" || name.EndsWith(".localhost", StringComparison.Ordinal) ? Refused(name) : null;
    }

    private static string Refused(string host)
        => $"must not point at a loopback, private, shared, link-local, multicast or unspecified address ('{host}'); " +
           "an operator can allow a network with Membership:Webhooks:AllowedNetworks";

    /// <summary>The address without an IPv4-mapped wrapper or a scope id.</summary>
    private static IPAddress Plain(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4();
        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && address.ScopeId != 0
            ? new IPAddress(address.GetAddressBytes())
            : address;
    }

    private static IPAddress? Embedded(IPAddress address)
    {
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6) return null;
        var bytes = address.GetAddressBytes();
        if (Nat64.Contains(address)) return new IPAddress(bytes.AsSpan(12, 4));
        if (SixToFour.Contains(address)) return new IPAddress(bytes.AsSpan(2, 4));
        return null;
    }
}
