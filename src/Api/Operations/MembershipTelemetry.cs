using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Membership.Grains;

namespace Orleans.Membership.Api.Operations;

/// <summary>
/// OpenTelemetry: metrics of ASP.NET Core, the .NET runtime, Npgsql, Orleans ("Microsoft.Orleans") and the
/// engine (<see cref="MembershipMetrics"/>) in Prometheus text at <c>/metrics</c>; metrics and traces to an
/// OTLP endpoint only when one is configured (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or
/// <c>Membership:Telemetry:OtlpEndpoint</c>). <c>Membership:Telemetry:Enabled=false</c> turns all of it off.
/// </summary>
public static class MembershipTelemetry
{
    public const string Section = "Membership:Telemetry";
    /// <summary>Orleans' own meter and activity sources.</summary>
    public const string OrleansMeter = "Microsoft.Orleans";
    public static readonly string[] OrleansSources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];
    /// <summary>
    /// ASP.NET Core's meters, less those that record on every buffer rented (MemoryPool) or route
    /// matched (Routing): requests are measured once, by http.server.request.duration.
    /// </summary>
    public static readonly string[] AspNetCoreMeters =
        ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Diagnostics", "Microsoft.AspNetCore.RateLimiting"];

    public static bool Enabled(IConfiguration configuration) => configuration.GetValue($"{Section}:Enabled", true);

    /// <summary>The OTLP endpoint, or null: then nothing is sent anywhere.</summary>
    public static string? OtlpEndpoint(IConfiguration configuration)
        => NullIfEmpty(configuration[$"{Section}:OtlpEndpoint"]) ?? NullIfEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    public static WebApplicationBuilder AddMembershipTelemetry(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        if (!Enabled(configuration)) return builder;
        var otlp = OtlpEndpoint(configuration);
        if (otlp is not null && NullIfEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]) is null)
        {
            // The exporter reads the standard key (and OTEL_EXPORTER_OTLP_PROTOCOL beside it) from configuration.
            builder.Configuration.AddInMemoryCollection([new("OTEL_EXPORTER_OTLP_ENDPOINT", otlp)]);
        }
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(configuration[$"{Section}:ServiceName"] ?? "orleans-membership"));
        telemetry.WithMetrics(metrics =>
        {
            metrics
                .AddMeter(MembershipMetrics.MeterName, OrleansMeter)
                .AddMeter(AspNetCoreMeters)
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddPrometheusExporter();
            if (otlp is not null) metrics.AddOtlpExporter();
        });
        if (otlp is not null)
        {
            telemetry.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsProbe(context.Request.Path))
                .AddSource(OrleansSources)
                .AddNpgsql()
                .AddOtlpExporter());
        }
        return builder;
    }

    public static WebApplication MapMembershipTelemetry(this WebApplication app)
    {
        // Scrapes are never rate limited, whatever key they carry.
        if (Enabled(app.Configuration)) app.MapPrometheusScrapingEndpoint("/metrics").DisableRateLimiting();
        return app;
    }

    /// <summary>Scrapes and probes are not traced.</summary>
    private static bool IsProbe(PathString path)
        => path.StartsWithSegments("/metrics") || path.StartsWithSegments("/health") || path.StartsWithSegments("/healthz");

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
