namespace Orleans.Membership.Api.Operations;

/// <summary>
/// CORS from configuration: <c>Membership:Cors:Origins</c> (a list, or comma-separated) may call the API
/// from a browser with the <c>X-Api-Key</c> and <c>Content-Type</c> headers. No origins: no CORS headers at all.
/// </summary>
public static class MembershipCors
{
    public const string Key = "Membership:Cors:Origins";

    public static string[] Origins(IConfiguration configuration)
    {
        var section = configuration.GetSection(Key);
        var values = section.GetChildren().Any() ? section.GetChildren().Select(c => c.Value ?? "") : (section.Value ?? "").Split(',');
        return values.Select(v => v.Trim().TrimEnd('/')).Where(v => v.Length > 0).ToArray();
    }

    public static WebApplicationBuilder AddMembershipCors(this WebApplicationBuilder builder)
    {
        var origins = Origins(builder.Configuration);
        if (origins.Length == 0) return builder;
        foreach (var origin in origins)
        {
            if (origin != "*" && !Uri.TryCreate(origin, UriKind.Absolute, out _)) throw MembershipSettings.Refused($"{Key}: '{origin}' is not an origin such as https://shop.example.com");
        }
        builder.Services.AddCors(o => o.AddDefaultPolicy(policy =>
        {
            if (origins.Contains("*")) policy.AllowAnyOrigin();
            else policy.WithOrigins(origins);
            policy.WithMethods("GET", "POST", "PUT", "DELETE")
                .WithHeaders("Content-Type", Http.ApiKeyAuthorization.Header)
                .WithExposedHeaders("Retry-After")
                .SetPreflightMaxAge(TimeSpan.FromHours(1));
        }));
        return builder;
    }

    public static WebApplication UseMembershipCors(this WebApplication app)
    {
        if (Origins(app.Configuration).Length > 0) app.UseCors();
        return app;
    }
}
