using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;
using Orleans.Membership.Api.Endpoints;
using Orleans.Membership.Api.Http;
using Orleans.Membership.Api.Operations;
using Orleans.Membership.Domain;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Grains;

namespace Orleans.Membership.Api;

/// <summary>Wires the v1 HTTP API into a web application, whether it co-hosts a silo or is a cluster client.</summary>
public static class MembershipApi
{
    public static IServiceCollection AddMembershipApi(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ApiKeyRegistry>();
        services.AddSingleton<ProgramCatalog>();
        services.TryAddSingleton<MemberReadModel>();
        services.TryAddSingleton<MemberChangePublisher>();
        services.TryAddSingleton<MemberGrainServices>();
        services.TryAddSingleton<StreamIngestStats>();
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateOnStart(o => o.Problem());
        services.TryAddSingleton(sp => new WebhookAddresses(sp.GetRequiredService<IOptions<WebhookOptions>>().Value.AllowedNetworks));
        services.TryAddSingleton<WebhookSender>();
        services.TryAddSingleton<MembershipMetrics>();
        services.AddSingleton<MemberRoute>();
        services.AddOptions<RequestLimits>().BindConfiguration(RequestLimits.Section).ValidateOnStart(l => l.Problem());
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c => c.ProblemDetails.Detail ??= Problems.FrameworkDetail(c.HttpContext, c.ProblemDetails.Status));
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJson.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(1, DomainJson.Default);
            // Bodies take numbers as numbers only ("5" is refused, naming the field): the document says so too.
            o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
        });
        return services;
    }

    public static WebApplication MapMembershipApi(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // An expected failure (a 503 to wait out) is logged below as a warning; the middleware would log it as an unhandled error too.
            SuppressDiagnosticsCallback = c => Problems.ForError(c.Exception) is not null,
            ExceptionHandler = async context =>
            {
                var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
                var problem = Problems.ForError(error);
                if (problem is { StatusCode: >= 500 }) app.Logger.LogWarning(error, "Request on {Path} answered {Status}", context.Request.Path, problem.StatusCode);
                // A 503 is a state to wait out: say when to try again.
                if (problem is { StatusCode: StatusCodes.Status503ServiceUnavailable }) context.Response.Headers.RetryAfter = Problems.RetryAfterSeconds;
                IResult? result = problem;
                if (result is null)
                {
                    app.Logger.LogError(error, "Unhandled error on {Path}", context.Request.Path);
                    result = TypedResults.Problem(statusCode: 500, title: "Internal error", detail: "the request failed inside the engine; it is safe to retry with the same ids");
                }
                await result.ExecuteAsync(context);
            },
        });

        // Errors the framework answers itself (no route: 404, a route without the method: 405) get the one error shape too.
        app.UseStatusCodePages();
        app.UseRefusedDotSegments();

        var api = app.MapGroup("").AnswerHeadLikeGet();
        // Probes are never rate limited, whatever key they carry (docs/operations.md); load balancers often probe with HEAD.
        api.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse("ok"))).WithName("Healthz").DisableRateLimiting();
        api.MapGet("/v1/diagnostics/runtime", () => TypedResults.Ok(RuntimeDiagnostics.Now())).RequireRole(Roles.Admin).WithName("GetRuntimeDiagnostics");
        // Events that came by stream in this process's silo (zero in a standalone API process).
        api.MapGet("/v1/diagnostics/streams", (StreamIngestStats stats, IServiceProvider services)
            => TypedResults.Ok(StreamDiagnostics.Of(stats, services.GetService<StreamBackpressureStats>()))).RequireRole(Roles.Admin).WithName("GetStreamDiagnostics");
        api.MapProgramsApiV1();
        api.MapMembersApiV1();
        api.MapBenefitsApiV1();
        api.MapPointsApiV1();
        api.MapSubscriptionsApiV1();
        api.MapPlansApiV1();
        api.MapEventsApiV1();
        api.MapChangesApiV1();

        var keys = app.Services.GetRequiredService<ApiKeyRegistry>();
        if (keys.IsOpen)
        {
            app.Logger.LogWarning("No API keys are configured (Membership:ApiKeys): the API is open to anyone who can reach it.");
            if (MembershipRateLimits.Read(app.Configuration).Count > 0)
            {
                app.Logger.LogWarning("{Section} is set but no API keys are configured (Membership:ApiKeys): limits apply per key, so nothing is limited.", MembershipRateLimits.Section);
            }
        }
        foreach (var key in keys.ShortKeys)
        {
            app.Logger.LogWarning("{Setting} is shorter than {Length} characters: a short key can be guessed.", key, ApiKeyRegistry.AdvisedKeyLength);
        }
        return app;
    }
}
