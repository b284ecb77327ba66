using System.Text.Json;
using System.Text.Json.Serialization;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Api.Http;

namespace Orleans.Membership.Silo.Nats;

/// <summary>
/// <c>Membership:Streams:Provider=nats</c>: festival events from a NATS JetStream stream, applied by one
/// dispatcher in the cluster (docs/streams.md, "NATS JetStream").
/// </summary>
public static class NatsIngest
{
    /// <summary><c>Membership:Streams:Nats</c>, checked: an out-of-range setting is refused naming it.</summary>
    public static NatsIngestOptions Read(IConfiguration configuration)
    {
        var options = configuration.GetSection("Membership:Streams:Nats").Get<NatsIngestOptions>() ?? new();
        return options.Problem() is { } problem ? throw Api.Operations.MembershipSettings.Refused(problem) : options;
    }

    public static void Add(WebApplicationBuilder builder, NatsIngestOptions options)
    {
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(_ => new NatsConnection(new NatsOpts { Url = options.Url!, Name = "membership-silo" }));
        builder.Services.AddSingleton<NatsEventPump>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<NatsEventPump>());
        builder.Services.AddHostedService<DispatcherKeeper>();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(NatsJson.Default));
    }

    /// <summary><c>GET /v1/diagnostics/nats</c> (admin): the dispatcher's counters, wherever it runs.</summary>
    public static void Map(WebApplication app)
    {
        if (app.Services.GetService<NatsIngestOptions>() is not { } options) return;
        app.MapGet("/v1/diagnostics/nats", async (IGrainFactory grains) =>
            TypedResults.Ok(await grains.GetGrain<IEventDispatcherGrain>(options.Stream).Ping())).RequireRole(Roles.Admin).AnswerHeadLikeGet();
    }
}

/// <summary>
/// Makes sure the streams exist before the node says it listens (a producer may publish as soon as it
/// does), then, once the node has started, pings the dispatcher from every silo, so it runs somewhere and
/// restarts soon after its silo died; and warns once of each program whose id producers cannot publish to.
/// </summary>
internal sealed partial class DispatcherKeeper(IGrainFactory grains, NatsConnection nats, NatsIngestOptions options, IHostApplicationLifetime lifetime,
    ILogger<DispatcherKeeper> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await NatsTopology.EnsureStreamsAsync(new NatsJSContext(nats), options, timeout.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // The dispatcher keeps trying; the node serves HTTP meanwhile.
            LogStreamsNotReady(e, options.Url!);
        }
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The shipped programs are made by a hosted service that starts after this one: a backlog waiting
        // in the broker would otherwise meet "program not found" and go to the dead letters.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try
            {
                await started.Task;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        var failures = 0;
        var programsChecked = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await grains.GetGrain<IEventDispatcherGrain>(options.Stream).Ping();
                failures = 0;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // While the cluster settles (the dispatcher's silo just died) pings fail for a while.
                if (++failures % 15 == 1) LogPingFailed(e, failures);
            }
            programsChecked = programsChecked || await WarnOfProgramsWithoutSubject(stoppingToken);
            try
            {
                await Task.Delay(options.PingInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>Once per start, as soon as the programs can be listed: a program no producer can publish to is a silent gap otherwise.</summary>
    private async Task<bool> WarnOfProgramsWithoutSubject(CancellationToken stoppingToken)
    {
        IReadOnlyList<ProgramListing> programs;
        try
        {
            programs = await grains.GetGrain<IProgramDirectoryGrain>(0).List();
        }
        catch (Exception) when (!stoppingToken.IsCancellationRequested)
        {
            return false; // storage is away: tried again at the next ping
        }
        foreach (var program in programs)
        {
            if (NatsTopology.WhyNoSubject(program.Id) is { } why) LogProgramWithoutSubject(program.Id, why, $"{options.Subject}.{program.Id}");
        }
        return true;
    }

    [LoggerMessage(1, LogLevel.Warning, "The NATS dispatcher did not answer ({Failures} pings in a row)")]
    private partial void LogPingFailed(Exception exception, int failures);

    [LoggerMessage(2, LogLevel.Warning, "The NATS streams could not be checked at {Url}; the dispatcher keeps trying")]
    private partial void LogStreamsNotReady(Exception exception, string url);

    [LoggerMessage(3, LogLevel.Warning, "Producers cannot publish events of program {ProgramId} over NATS: {Why}, so {Subject} is not a NATS subject and nats-server stores no such publish (docs/streams.md). Feed it over HTTP, or give the program an id without a leading, trailing or double dot")]
    private partial void LogProgramWithoutSubject(string programId, string why, string subject);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(NatsIngestCounters))]
internal sealed partial class NatsJson : JsonSerializerContext;
