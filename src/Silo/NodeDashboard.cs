using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using Orleans.Dashboard;
using Orleans.Membership.Api.Http;
using Orleans.Membership.Api.Operations;

namespace Orleans.Membership.Silo;

/// <summary>
/// The Orleans Dashboard at <see cref="Path"/>, admin-only when API keys are configured. A browser cannot
/// add an <c>X-Api-Key</c> header, so the dashboard also takes the key as the password of HTTP Basic
/// authentication (any user name): the browser asks once and sends it with every request of the page.
/// <c>Membership:Dashboard:Enabled=false</c> removes it.
/// </summary>
public static class NodeDashboard
{
    public const string Path = "/dashboard";

    public static bool Enabled(IConfiguration configuration) => configuration.GetValue("Membership:Dashboard:Enabled", true);

    public static ISiloBuilder AddMembershipDashboard(this ISiloBuilder silo, IConfiguration configuration)
        => Enabled(configuration) ? silo.AddDashboard(o => configuration.GetSection("Membership:Dashboard").Bind(o)) : silo;

    /// <summary>The dashboard's numbers, refused out of range when it is enabled.</summary>
    public static void Check(IConfiguration configuration)
    {
        if (!Enabled(configuration)) return;
        MembershipSettings.Int(configuration, "Membership:Dashboard:CounterUpdateIntervalMs", 1000, 1000, 3_600_000);
        MembershipSettings.Int(configuration, "Membership:Dashboard:HistoryLength", 100, 1, 100_000);
    }

    public static WebApplication MapMembershipDashboard(this WebApplication app)
    {
        if (!Enabled(app.Configuration)) return app;
        var keys = app.Services.GetRequiredService<ApiKeyRegistry>();
        app.MapOrleansDashboard(Path).ExcludeFromDescription().AddEndpointFilterFactory((_, next) => keys.IsOpen ? next : async context =>
        {
            var http = context.HttpContext;
            var presented = http.Request.Headers[ApiKeyAuthorization.Header];
            var status = presented.Count > 0 ? keys.Authorize(presented, Roles.Admin) : keys.Authorize(BasicPassword(http.Request), Roles.Admin);
            if (status is null) return await next(context);
            if (status == StatusCodes.Status401Unauthorized) http.Response.Headers.WWWAuthenticate = "Basic realm=\"Orleans Dashboard\", charset=\"UTF-8\"";
            return TypedResults.Problem(new ProblemDetails
            {
                Status = status,
                Title = status == StatusCodes.Status401Unauthorized ? "Unauthorized" : "Forbidden",
                Detail = status == StatusCodes.Status401Unauthorized
                    ? $"the dashboard needs an admin API key: in the {ApiKeyAuthorization.Header} header, or as the password of HTTP Basic authentication"
                    : "this API key does not hold the 'admin' role",
            });
        });
        return app;
    }

    /// <summary>The password of an <c>Authorization: Basic</c> header, or null.</summary>
    private static string? BasicPassword(HttpRequest request)
    {
        var header = request.Headers[HeaderNames.Authorization].FirstOrDefault();
        if (header is null || !header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            var credentials = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
            var colon = credentials.IndexOf(':');
            return colon < 0 ? null : credentials[(colon + 1)..];
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
