using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Orleans.Membership.Api.Http;

namespace Orleans.Membership.Api.Operations;

/// <summary>The limit of one role: a token bucket of <see cref="Burst"/> requests refilled by <see cref="PerSecond"/> each second.</summary>
public sealed class RoleRateLimit
{
    public int PerSecond { get; set; }
    /// <summary>Requests a key may send at once after a quiet spell; defaults to <see cref="PerSecond"/>.</summary>
    public int? Burst { get; set; }
}

/// <summary>
/// Rate limiting per API key with ASP.NET Core's limiter, configured per role
/// (<c>Membership:RateLimits:&lt;role&gt;:PerSecond</c>, <c>:Burst</c>). A key gets the most generous limit
/// among the roles it holds; a role without a limit is unlimited. Off unless a role has a limit, and
/// without API keys (nothing to tell callers apart). Over the limit: 429 problem+json with Retry-After.
/// </summary>
public static class MembershipRateLimits
{
    public const string Section = "Membership:RateLimits";

    public static Dictionary<string, RoleRateLimit> Read(IConfiguration configuration)
    {
        var limits = new Dictionary<string, RoleRateLimit>(StringComparer.Ordinal);
        foreach (var role in configuration.GetSection(Section).GetChildren())
        {
            if (Array.IndexOf(Roles.All, role.Key) < 0)
            {
                throw MembershipSettings.Refused($"{Section}:{role.Key}: unknown role (roles: {string.Join(", ", Roles.All)})");
            }
            var limit = role.Get<RoleRateLimit>() ?? new RoleRateLimit();
            if (limit.PerSecond < 1) throw MembershipSettings.Refused($"{Section}:{role.Key}:PerSecond must be at least 1");
            if (limit.Burst is < 1) throw MembershipSettings.Refused($"{Section}:{role.Key}:Burst must be at least 1");
            limits[role.Key] = limit;
        }
        return limits;
    }

    public static WebApplicationBuilder AddMembershipRateLimits(this WebApplicationBuilder builder)
    {
        var limits = Read(builder.Configuration);
        if (limits.Count == 0) return builder;
        builder.Services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                // More than one key is refused (401) whatever it holds: no key's budget pays for it.
                var keys = context.Request.Headers[ApiKeyAuthorization.Header];
                var key = keys.Count == 1 ? keys[0] : null;
                var limit = key is null ? null : LimitOf(context.RequestServices.GetRequiredService<ApiKeyRegistry>(), key, limits);
                // No limit: an unknown key (its requests are refused anyway), or a role without a limit.
                return limit is null
                    ? RateLimitPartition.GetNoLimiter("")
                    : RateLimitPartition.GetTokenBucketLimiter(key!, _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = limit.Burst ?? limit.PerSecond,
                        TokensPerPeriod = limit.PerSecond,
                        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    });
            });
            o.OnRejected = async (rejection, cancellationToken) =>
            {
                var context = rejection.HttpContext;
                var seconds = rejection.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 1;
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                var problem = new ProblemDetails
                {
                    // The framework knows no default type for 429, as it does for every other status the API answers.
                    Type = "https://tools.ietf.org/html/rfc6585#section-4",
                    Status = StatusCodes.Status429TooManyRequests,
                    Title = "Too many requests",
                    Detail = $"this API key is over its rate limit; retry after {seconds} s",
                };
                problem.Extensions["reason"] = "rate-limit";
                await TypedResults.Problem(problem).ExecuteAsync(context);
            };
        });
        return builder;
    }

    public static WebApplication UseMembershipRateLimits(this WebApplication app)
    {
        if (Read(app.Configuration).Count > 0 && !app.Services.GetRequiredService<ApiKeyRegistry>().IsOpen) app.UseRateLimiter();
        return app;
    }

    /// <summary>The most generous limit among the key's roles; null when one of them is unlimited or the key holds none.</summary>
    private static RoleRateLimit? LimitOf(ApiKeyRegistry keys, string key, Dictionary<string, RoleRateLimit> limits)
    {
        RoleRateLimit? most = null;
        var holdsAny = false;
        foreach (var role in Roles.All)
        {
            if (keys.Authorize(key, role) is not null) continue;
            holdsAny = true;
            if (!limits.TryGetValue(role, out var limit)) return null;
            if (most is null || limit.PerSecond > most.PerSecond) most = limit;
        }
        return holdsAny ? most : null;
    }
}
