using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Storage;
using Orleans.Streams;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Api;
using Orleans.Membership.Api.Operations;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Grains;
using Orleans.Membership.Silo.Postgres;

namespace Orleans.Membership.Silo;

/// <summary>
/// Builds a node: an Orleans silo with the v1 API co-hosted. With no <c>ConnectionStrings:Membership</c>
/// it is the embedded node (localhost clustering, everything in memory).
/// </summary>
public static class MembershipNode
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <param name="configure">lets tests replace services (the clock) before the app is built</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
        builder.AddMembershipLogging();

        // The node's own settings are read and checked before the schema is migrated or the silo built.
        var configuration = builder.Configuration;
        var siloPort = MembershipSettings.Int(configuration, "Membership:SiloPort", 11111, 1, 65535);
        var gatewayPort = MembershipSettings.Int(configuration, "Membership:GatewayPort", 30000, 1, 65535);
        if (siloPort == gatewayPort) throw MembershipSettings.Refused($"Membership:SiloPort and Membership:GatewayPort must differ, both are {siloPort}");
        var advertised = AdvertisedAddress.Read(configuration);
        var clusterId = MembershipSettings.Text(configuration, "Membership:ClusterId", "membership");
        var connectionString = configuration.GetConnectionString("Membership");
        var durable = !string.IsNullOrEmpty(connectionString);
        if (durable) DatabaseSetting.Check(connectionString!);
        var shedding = configuration.GetSection(MemberSheddingOptions.Section).Get<MemberSheddingOptions>() ?? new();
        if (shedding.Problem() is { } sheddingProblem) throw MembershipSettings.Refused(sheddingProblem);
        var streams = configuration["Membership:Streams:Provider"] ?? "memory";
        if (streams is not ("memory" or "nats" or "none"))
        {
            throw MembershipSettings.Refused($"Membership:Streams:Provider must be memory, nats or none, not '{streams}'");
        }
        var nats = streams == "nats" ? Nats.NatsIngest.Read(configuration) : null;
        NodeDashboard.Check(configuration);
        var streamQueues = MembershipSettings.Int(configuration, "Membership:Streams:Queues", 8, 1, 256);
        var maxHeldPerQueue = MembershipSettings.Int(configuration, "Membership:Streams:MaxHeldPerQueue", 1024, 1, 1_000_000);
        var maxDelivery = TimeSpan.FromMinutes(MembershipSettings.Int(configuration, "Membership:Streams:MaxDeliveryMinutes", 24 * 60, 1, 366 * 24 * 60));
        // Membership:Ledger:Mode: group-commit (the default), or per-append (one ledger transaction per member
        // write), the comparison load-tests/durable-ingest.sh makes.
        var mode = configuration["Membership:Ledger:Mode"] ?? "group-commit";
        if (mode is not ("group-commit" or "per-append"))
        {
            throw MembershipSettings.Refused($"Membership:Ledger:Mode must be group-commit or per-append, not '{mode}'");
        }
        var writer = new LedgerWriterOptions
        {
            MaxDelay = TimeSpan.FromMilliseconds(MembershipSettings.Number(configuration, "Membership:Ledger:MaxDelayMs", 2.0, 0, 1000)),
            MaxBatchRows = MembershipSettings.Int(configuration, "Membership:Ledger:MaxBatchRows", 2000, 1, 100_000),
            Writers = MembershipSettings.Int(configuration, "Membership:Ledger:Writers", 1, 1, 64),
            GroupCommit = mode == "group-commit",
        };
        var notices = configuration.GetSection("Membership:Notices");
        if ((notices.Get<DueSweepOptions>() ?? new()).Problem() is { } noticesProblem) throw MembershipSettings.Refused(noticesProblem);
        // A port another process listens on is refused, not shared (Orleans' listeners reuse addresses).
        PortsInUse.Check(configuration, advertised, siloPort, gatewayPort);
        if (durable)
        {
            // The schema (Orleans' query catalog, clustering, storage, reminders, the ledger) before the silo starts.
            DatabaseSetting.Migrate(connectionString!);
        }
        builder.UseOrleans(silo =>
        {
            silo.Configure<GrainCollectionOptions>(shedding.ApplyTo);
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = "membership";
            });
            // Inbound scoring events on the member streams (docs/streams.md): memory queues by default.
            switch (streams)
            {
                case "memory":
                    // Bounded on the silo side (docs/streams.md, "Backpressure"): batches are held until applied,
                    // at most MaxHeldPerQueue per queue; beyond that the queues fill and producers are told to retry.
                    silo.AddBoundedMemoryStreams(ScoringStreams.Provider, new StreamBackpressureOptions
                    {
                        MaxHeldPerQueue = maxHeldPerQueue,
                    }, s =>
                    {
                        s.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
                        s.ConfigurePartitioning(streamQueues);
                        // A batch that cannot be applied (the ledger is away) is redelivered until it applies,
                        // not skipped after Orleans' default minute: the queue behind it waits, and fills.
                        s.ConfigurePullingAgent(o => o.Configure(a => a.MaxEventDeliveryTime = maxDelivery));
                    });
                    break;
                case "nats":
                    // Festival events from NATS JetStream (docs/streams.md); in-cluster streams stay on memory queues.
                    Nats.NatsIngest.Add(builder, nats!);
                    goto case "memory";
                case "none":
                    break;
            }
            if (durable)
            {
                silo.ConfigureEndpoints(advertised, siloPort, gatewayPort);
                silo.UseAdoNetClustering(o => { o.Invariant = "Npgsql"; o.ConnectionString = connectionString; });
                foreach (var name in new[] { StorageNames.Programs, StorageNames.Snapshots })
                {
                    // The database's own provider under an inner name; grains get it through StoreFailures (an outage is a 503).
                    // DeleteStateOnClear: an erased member's snapshot row goes, key and all (its id may be personal data).
                    silo.AddAdoNetGrainStorage(StoreFailures.Inner(name), o => { o.Invariant = "Npgsql"; o.ConnectionString = connectionString; o.DeleteStateOnClear = true; });
                    silo.Services.AddKeyedSingleton<IGrainStorage>(name, (services, _) =>
                        new StoreFailures(services.GetRequiredKeyedService<IGrainStorage>(StoreFailures.Inner(name)), name));
                }
                silo.Services.AddMemberSnapshotSerializer<AdoNetGrainStorageOptions>(StoreFailures.Inner(StorageNames.Snapshots));
                silo.UseAdoNetReminderService(o => { o.Invariant = "Npgsql"; o.ConnectionString = connectionString; });
            }
            else
            {
                silo.UseLocalhostClustering(siloPort, gatewayPort, new System.Net.IPEndPoint(advertised, siloPort));
                silo.ConfigureEndpoints(advertised, siloPort, gatewayPort);
                silo.AddMemoryGrainStorage(StorageNames.Programs);
                silo.AddMemoryGrainStorage(StorageNames.Snapshots);
                silo.Services.AddMemberSnapshotSerializer<MemoryGrainStorageOptions>();
                silo.UseInMemoryReminderService();
            }
            silo.AddMembershipDashboard(builder.Configuration);
        });
        if (!durable)
        {
            builder.Services.AddSingleton<IMemberLedger, InMemoryMemberLedger>();
            builder.Services.Configure<MemberPersistenceOptions>(o => o.SnapshotsOutliveProcess = false);
        }
        else
        {
            // Ledger first: every acknowledged change is a committed row; members replay it on activation.
            builder.Services.AddSingleton<IMemberLedger>(sp => new PostgresMemberLedger(connectionString!, writer, sp.GetRequiredService<MembershipMetrics>()));
        }
        builder.Services.Configure<DueSweepOptions>(notices);
        if (durable) builder.Services.AddSingleton<IDueIndex>(_ => new PostgresDueIndex(connectionString!));
        else builder.Services.AddSingleton<IDueIndex, InMemoryDueIndex>();
        builder.Services.AddMembershipApi();
        builder.Services.AddHostedService<ShippedPrograms>();
        builder.Services.AddHostedService<DueSweepers>();
        // Operations (docs/operations.md): health checks, OpenTelemetry, rate limits, CORS, the OpenAPI document.
        builder.AddMembershipHealth().AddSiloChecks();
        builder.AddMembershipTelemetry();
        builder.AddMembershipRateLimits();
        builder.AddMembershipCors();
        builder.Services.AddMembershipOpenApi();
        configure?.Invoke(builder);

        var app = builder.Build().ValidateSettings();
        app.UseMembershipCors();
        app.UseMembershipRateLimits();
        app.MapMembershipApi();
        Nats.NatsIngest.Map(app);
        app.MapMembershipHealth();
        app.MapMembershipTelemetry();
        app.MapMembershipOpenApi();
        app.MapMembershipDashboard();
        app.Lifetime.ApplicationStarted.Register(() => Announce(app, durable));
        if (durable && mode != "group-commit")
        {
            app.Lifetime.ApplicationStarted.Register(() => app.Logger.LogWarning(
                "Membership:Ledger:Mode={Mode} is a benchmark comparison, not a production mode", mode));
        }
        if (streams != "nats" && !string.IsNullOrEmpty(builder.Configuration["Membership:Streams:Nats:Url"]))
        {
            app.Lifetime.ApplicationStarted.Register(() => app.Logger.LogWarning(
                "Membership:Streams:Nats:Url is set but Membership:Streams:Provider is {Provider}: nothing is read from NATS (set the provider to nats)", streams));
        }
        return app;
    }

    private static void Announce(WebApplication app, bool durable)
    {
        var urls = string.Join(", ", app.Urls);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(MembershipNode).FullName!);
        if (durable)
        {
            logger.LogInformation(
                "PostgreSQL mode: every acknowledged change is committed to the member ledger; programs, snapshots, " +
                "clustering and reminders are in PostgreSQL too.");
        }
        else
        {
            logger.LogWarning(
                "EMBEDDED MODE: members, ledgers and programs live in this process's memory only. NOTHING IS DURABLE: " +
                "stopping the node loses every member. Set ConnectionStrings:Membership to run on PostgreSQL.");
        }
        Console.WriteLine($"Orleans.Membership node listening on {urls} (programs: {string.Join(", ", ShippedPrograms.Ids())})");
    }
}

/// <summary>Creates the programs shipped in <c>programs/*.json</c> at first start, unless they exist.</summary>
internal sealed class ShippedPrograms(IGrainFactory grains, ProgramCatalog catalog, ILogger<ShippedPrograms> logger) : IHostedService
{
    private static string Folder => Path.Combine(AppContext.BaseDirectory, "programs");

    /// <summary>The ids of the shipped programs: the names of <c>programs/*.json</c>, in order.</summary>
    public static IEnumerable<string> Ids()
        => Directory.Exists(Folder)
            ? Directory.EnumerateFiles(Folder, "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal)
            : [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var id in Ids())
        {
            var file = Path.Combine(Folder, id + ".json");
            var definition = await grains.GetGrain<IProgramGrain>(id).Ensure(await File.ReadAllTextAsync(file, cancellationToken));
            catalog.Publish(definition);
            logger.LogInformation("Program {ProgramId} v{Version} ready", id, definition.Version);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Starts the due-time sweepers (their reminders keep them running from then on).</summary>
internal sealed class DueSweepers(IGrainFactory grains) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        for (var shard = 0; shard < DueShards.Count; shard++) await grains.GetGrain<IDueSweeperGrain>(shard).Start();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
