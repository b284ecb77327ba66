using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Membership.Silo;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Operations;

/// <summary>A setting out of range stops the node before it starts, naming the setting (docs/configuration.md).</summary>
public sealed class RefusedSettingsTests
{
    private static string[] Node(params string[] settings) => ["--urls", "http://127.0.0.1:0", .. FreePorts.SiloAndGateway(), .. settings];

    private static string RefusalOf(params string[] settings)
    {
        var error = Record.Exception(() => MembershipNode.Build(Node(settings)).DisposeAsync().AsTask().GetAwaiter().GetResult());
        Assert.True(error is OptionsValidationException, $"settings {string.Join(' ', settings)}: {error?.GetType().Name ?? "the node was built"}: {error?.Message}");
        return error!.Message;
    }

    [Theory]
    [InlineData("MaxConcurrent", "0")]
    [InlineData("MaxAttempts", "0")]
    [InlineData("Timeout", "00:00:00")]
    [InlineData("Timeout", "5")] // five days, as configuration reads a bare number
    [InlineData("FirstRetryDelay", "-00:00:01")]
    [InlineData("FirstRetryDelay", "00:10:00")] // longer than MaxDelay
    [InlineData("MaxDelay", "00:00:00")]
    [InlineData("AllowedNetworks:0", "10.0.0.0/33")]
    public void A_webhooks_setting_out_of_range_is_refused_naming_it(string setting, string value)
    {
        var message = RefusalOf("--Membership:Webhooks:AllowedNetworks:0=127.0.0.0/8", $"--Membership:Webhooks:{setting}={value}");
        Assert.StartsWith($"Membership:Webhooks:{setting} must be", message);
        Assert.Contains(setting == "AllowedNetworks:0" ? $"not '{value}'" : "not ", message);
    }

    [Theory]
    [InlineData("Membership:SiloPort", "70000")]
    [InlineData("Membership:GatewayPort", "0")]
    [InlineData("Membership:SiloPort", "eleven")]
    [InlineData("Membership:Streams:Queues", "0")]
    [InlineData("Membership:Streams:MaxHeldPerQueue", "0")]
    [InlineData("Membership:Streams:MaxDeliveryMinutes", "-1")]
    [InlineData("Membership:Ledger:MaxDelayMs", "-1")]
    [InlineData("Membership:Ledger:MaxBatchRows", "0")]
    [InlineData("Membership:Ledger:Writers", "0")]
    [InlineData("Membership:Dashboard:CounterUpdateIntervalMs", "10")]
    [InlineData("Membership:Dashboard:HistoryLength", "0")]
    public void A_node_number_out_of_range_is_refused_naming_it_and_its_range(string setting, string value)
    {
        Assert.Matches($"^{setting} must be a (whole )?number from -?[0-9]+ to [0-9]+, not '{value}'$", RefusalOf($"--{setting}={value}"));
    }

    [Fact]
    public void A_silo_port_that_is_also_the_gateway_port_is_refused()
    {
        Assert.Equal("Membership:SiloPort and Membership:GatewayPort must differ, both are 30000", RefusalOf("--Membership:SiloPort=30000", "--Membership:GatewayPort=30000"));
    }

    [Fact]
    public void A_request_limit_out_of_range_is_refused_naming_that_limit()
    {
        Assert.Equal("Membership:Limits:MaxProgramBytes must be at least 1, not 0", RefusalOf("--Membership:Limits:MaxProgramBytes=0"));
    }

    [Fact]
    public void An_api_key_without_roles_is_refused()
    {
        Assert.Equal("Membership:ApiKeys:1:Roles must name at least one role (checkout, ingest, admin)", RefusalOf(
            "--Membership:ApiKeys:0:Key=checkout-key-0123456789", "--Membership:ApiKeys:0:Roles=checkout",
            "--Membership:ApiKeys:1:Key=admin-key-0123456789"));
    }

    [Fact]
    public async Task A_short_api_key_and_rate_limits_without_keys_are_warned_about_at_start()
    {
        var log = new LogCapture();
        await using (MembershipNode.Build(Node("--Membership:ApiKeys:0:Key=k", "--Membership:ApiKeys:0:Roles=checkout"), b => b.Logging.AddProvider(log))) { }
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Warning && l.Message == "Membership:ApiKeys:0:Key is shorter than 16 characters: a short key can be guessed.");

        var open = new LogCapture();
        await using (MembershipNode.Build(Node("--Membership:RateLimits:checkout:PerSecond=10"), b => b.Logging.AddProvider(open))) { }
        Assert.Contains(open.Lines, l => l.Level == LogLevel.Warning
            && l.Message == "Membership:RateLimits is set but no API keys are configured (Membership:ApiKeys): limits apply per key, so nothing is limited.");
    }

    [Theory]
    [InlineData("Silo", "--Membership:Webhooks:MaxConcurrent=0", "Membership:Webhooks:MaxConcurrent must be from 1 to 1000, not 0")]
    [InlineData("Silo", "--Membership:Streams:Queues=0", "Membership:Streams:Queues must be a whole number from 1 to 256, not '0'")]
    [InlineData("Silo", "--Membership:Notices:Concurrency=0", "Membership:Notices:Concurrency must be at least 1, not 0")]
    [InlineData("Silo", "--Membership:Webhooks:MaxAttempts=x", "Failed to convert configuration value 'x' at 'Membership:Webhooks:MaxAttempts' to type 'System.Int32'.")]
    [InlineData("Api", "--Membership:GatewayPort=70000", "Membership:GatewayPort must be a whole number from 1 to 65535, not '70000'")]
    [InlineData("Silo", "--Membership:ClusterId=", "Membership:ClusterId must not be empty")]
    [InlineData("Api", "--Membership:ClusterId=", "Membership:ClusterId must not be empty")]
    public async Task A_process_refused_its_settings_says_so_in_one_line_and_exits_78(string project, string setting, string problem)
    {
        // Ports of this test's own, should a process take its settings and start.
        string[] ports = project == "Silo" ? ["--Membership:SiloPort=11187", "--Membership:GatewayPort=30187"] : [];
        var (exitCode, output, errors) = await RunAsync(project, ["--urls", "http://127.0.0.1:0", "--Membership:Dashboard:Enabled=false", .. ports, setting]);

        Assert.Equal(78, exitCode);
        Assert.Equal([$"Refused setting: {problem}"], errors);
        Assert.DoesNotContain(output, l => l.Contains("Exception", StringComparison.Ordinal));
    }

    /// <summary>Runs the built process to its end (bounded) with its output by lines.</summary>
    internal static async Task<(int ExitCode, string[] Output, string[] Errors)> RunAsync(string project, string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Postgres.NodeProcess.Dll(project));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the {project} process did not exit within 60 s: {await output}");
        }
        static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return (process.ExitCode, Lines(await output), Lines(await errors));
    }
}
