using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Primitives;

namespace Orleans.Membership.Api.Http;

/// <summary>The roles an API key can hold.</summary>
public static class Roles
{
    public const string Checkout = "checkout";
    public const string Ingest = "ingest";
    public const string Admin = "admin";
    public static readonly string[] All = [Checkout, Ingest, Admin];
}

/// <summary>
/// API keys from configuration (<c>Membership:ApiKeys:&lt;n&gt;:Key</c> and <c>:Roles</c>, roles as a list or a
/// comma-separated string). No keys configured: the API is open. Only SHA-256 hashes of the keys are kept,
/// and a presented key's hash is compared with every one of them in constant time, so how long a check takes
/// tells nothing about how much of a key was right.
/// </summary>
public sealed class ApiKeyRegistry
{
    private readonly record struct Entry(byte[] Hash, HashSet<string> Roles);

    /// <summary>Keys shorter than this are taken, with a warning at start: a short key can be guessed.</summary>
    public const int AdvisedKeyLength = 16;

    private readonly Entry[] _keys;

    /// <summary>The settings (<c>Membership:ApiKeys:&lt;n&gt;:Key</c>) of keys shorter than <see cref="AdvisedKeyLength"/>.</summary>
    public IReadOnlyList<string> ShortKeys { get; }

    public ApiKeyRegistry(IConfiguration configuration)
    {
        var keys = new List<Entry>();
        var names = new List<string>();
        var shortKeys = new List<string>();
        foreach (var entry in configuration.GetSection("Membership:ApiKeys").GetChildren())
        {
            var key = entry["Key"];
            if (string.IsNullOrWhiteSpace(key)) throw Operations.MembershipSettings.Refused($"Membership:ApiKeys:{entry.Key}:Key is missing");
            var rolesSection = entry.GetSection("Roles");
            var roles = rolesSection.GetChildren().Any()
                ? rolesSection.GetChildren().Select(c => c.Value ?? "")
                : (rolesSection.Value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var set = new HashSet<string>(StringComparer.Ordinal);
            foreach (var role in roles)
            {
                if (Array.IndexOf(Roles.All, role) < 0)
                {
                    throw Operations.MembershipSettings.Refused($"Membership:ApiKeys:{entry.Key}:Roles has unknown role '{role}' (roles: {string.Join(", ", Roles.All)})");
                }
                set.Add(role);
            }
            // A key without roles is refused everywhere: surely a role list that did not arrive (a typo in its key).
            if (set.Count == 0) throw Operations.MembershipSettings.Refused($"Membership:ApiKeys:{entry.Key}:Roles must name at least one role ({string.Join(", ", Roles.All)})");
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
            var same = keys.FindIndex(k => k.Hash.AsSpan().SequenceEqual(hash));
            if (same >= 0) throw Operations.MembershipSettings.Refused($"Membership:ApiKeys:{entry.Key}:Key repeats the key of Membership:ApiKeys:{names[same]}");
            if (key.Length < AdvisedKeyLength) shortKeys.Add($"Membership:ApiKeys:{entry.Key}:Key");
            keys.Add(new Entry(hash, set));
            names.Add(entry.Key);
        }
        _keys = [.. keys];
        ShortKeys = shortKeys;
    }

    public bool IsOpen => _keys.Length == 0;

    /// <summary>
    /// As <see cref="Authorize(string?, string)"/> for the values of the key header: more than one is a 401,
    /// whatever their order (which one counted would depend on the proxies in between).
    /// </summary>
    public int? Authorize(StringValues keys, string role)
        => IsOpen ? null : keys.Count > 1 ? StatusCodes.Status401Unauthorized : Authorize(keys.FirstOrDefault(), role);

    /// <summary>null: allowed; otherwise the status to answer (401 or 403).</summary>
    public int? Authorize(string? key, string role)
    {
        if (IsOpen) return null;
        if (key is null) return StatusCodes.Status401Unauthorized;
        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        Hash(key, presented);
        HashSet<string>? roles = null;
        // Every key is compared, with no early exit: the time does not say which one matched, or whether one did.
        foreach (var entry in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(entry.Hash, presented)) roles = entry.Roles;
        }
        if (roles is null) return StatusCodes.Status401Unauthorized;
        return roles.Contains(role) || roles.Contains(Roles.Admin) ? null : StatusCodes.Status403Forbidden;
    }

    private static void Hash(string key, Span<byte> destination)
    {
        var length = Encoding.UTF8.GetMaxByteCount(key.Length);
        byte[]? rented = null;
        var utf8 = length <= 512 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = Encoding.UTF8.GetBytes(key, utf8);
            SHA256.HashData(utf8[..written], destination);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }
}

/// <summary>Endpoint filter: the caller's <c>X-Api-Key</c> must hold the role.</summary>
public static class ApiKeyAuthorization
{
    public const string Header = "X-Api-Key";

    /// <summary>The <c>WWW-Authenticate</c> of every 401 (RFC 9110 requires one): the scheme and the header it is sent in.</summary>
    public const string Challenge = $"ApiKey header=\"{Header}\"";

    public static TBuilder RequireRole<TBuilder>(this TBuilder builder, string role) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new Operations.RequiredRole(role));
        // With no keys configured the API is open: no filter at all on the hot path.
        builder.AddEndpointFilterFactory((factoryContext, next) =>
            factoryContext.ApplicationServices.GetRequiredService<ApiKeyRegistry>().IsOpen ? next : async context =>
        {
            var http = context.HttpContext;
            var registry = http.RequestServices.GetRequiredService<ApiKeyRegistry>();
            var keys = http.Request.Headers[Header];
            var status = registry.Authorize(keys, role);
            if (status is null) return await next(context);
            if (status == 401) http.Response.Headers.WWWAuthenticate = Challenge;
            return TypedResults.Problem(new ProblemDetails
            {
                Status = status,
                Title = status == 401 ? "Unauthorized" : "Forbidden",
                Detail = status != 401 ? $"this API key does not hold the '{role}' role"
                    : keys.Count > 1 ? $"send one {Header} header, not {keys.Count}: a request with more than one key is refused"
                    : $"send a valid API key in the {Header} header",
            });
        });
        return builder;
    }
}
