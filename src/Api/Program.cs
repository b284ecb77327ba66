using Orleans.Configuration;
using Orleans.Membership.Api;
using Orleans.Membership.Api.Operations;

// The API as a separate process: an Orleans client of the silos. With ConnectionStrings:Membership it
// finds them through PostgreSQL clustering; without, it connects to a local silo's gateway.
return await MembershipSettings.RunAsync(() =>
{
    var builder = WebApplication.CreateBuilder(args);
    if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
    {
        builder.WebHost.UseUrls("http://127.0.0.1:5090");
    }
    builder.AddMembershipLogging();

    var connectionString = builder.Configuration.GetConnectionString("Membership");
    var gatewayPort = MembershipSettings.Int(builder.Configuration, "Membership:GatewayPort", 30000, 1, 65535);
    var clusterId = MembershipSettings.Text(builder.Configuration, "Membership:ClusterId", "membership");
    builder.UseOrleansClient(client =>
    {
        if (string.IsNullOrEmpty(connectionString))
        {
            client.UseLocalhostClustering(gatewayPort);
        }
        else
        {
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connectionString;
            });
        }
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = clusterId;
            o.ServiceId = "membership";
        });
    });
    builder.Services.AddMembershipApi();
    // Operations (docs/operations.md): health checks, OpenTelemetry, rate limits, CORS, the OpenAPI document.
    builder.AddMembershipHealth().AddClusterClientCheck();
    builder.AddMembershipTelemetry();
    builder.AddMembershipRateLimits();
    builder.AddMembershipCors();
    builder.Services.AddMembershipOpenApi();

    var app = builder.Build().ValidateSettings();
    app.UseMembershipCors();
    app.UseMembershipRateLimits();
    app.MapMembershipApi();
    app.MapMembershipHealth();
    app.MapMembershipTelemetry();
    app.MapMembershipOpenApi();
    app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine($"Orleans.Membership API (cluster client) listening on {string.Join(", ", app.Urls)}"));
    return app;
});
