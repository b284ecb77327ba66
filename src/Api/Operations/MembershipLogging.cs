using Microsoft.Extensions.Configuration.Memory;

namespace Orleans.Membership.Api.Operations;

/// <summary>The node's log levels and format: defaults any configuration source overrides, JSON on request.</summary>
public static class MembershipLogging
{
    /// <summary>
    /// Lowest-precedence defaults, so <c>--Logging:LogLevel:Orleans=Information</c> (or appsettings, or the
    /// environment) replaces them. Orleans' own categories are noisy at Information; ours start with
    /// "Orleans.Membership" and keep Information (the longer prefix wins).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string?> DefaultLevels = new Dictionary<string, string?>
    {
        ["Logging:LogLevel:Orleans"] = "Warning",
        ["Logging:LogLevel:Orleans.Membership"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        // Hosting logs nothing at Warning; left enabled, it still opens a log scope and an Activity per request.
        ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "None",
        ["Logging:LogLevel:Polly"] = "Warning",
    };

    public static WebApplicationBuilder AddMembershipLogging(this WebApplicationBuilder builder)
    {
        IConfigurationBuilder configuration = builder.Configuration;
        configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = DefaultLevels });
        // One JSON object per line on the console, for log shippers; the standard Logging:Console:FormatterName=json does the same.
        if (builder.Configuration.GetValue("Membership:Logging:Json", false))
        {
            builder.Logging.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }
        return builder;
    }
}
