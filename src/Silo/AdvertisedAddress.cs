using System.Net;
using Orleans.Membership.Api.Operations;

namespace Orleans.Membership.Silo;

/// <summary><c>Membership:AdvertisedIP</c>: the address a silo listens on and tells the cluster (silo and gateway endpoints).</summary>
public static class AdvertisedAddress
{
    public const string Key = "Membership:AdvertisedIP";

    public static IPAddress Read(IConfiguration configuration)
    {
        var text = configuration[Key];
        if (string.IsNullOrWhiteSpace(text)) return IPAddress.Loopback;
        if (!IPAddress.TryParse(text.Trim(), out var address))
        {
            throw MembershipSettings.Refused($"{Key} must be an IP address (e.g. 10.0.0.12), not '{text}'");
        }
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            throw MembershipSettings.Refused($"{Key} must be an address other silos and clients can reach, not '{text}' (any)");
        }
        return address;
    }
}
