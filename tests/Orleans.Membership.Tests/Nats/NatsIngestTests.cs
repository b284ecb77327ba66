using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Npgsql;
using Orleans.Membership.Silo.Nats;
using Xunit.Abstractions;
using Orleans.Membership.Tests.Operations;
using Orleans.Membership.Tests.Postgres;

namespace Orleans.Membership.Tests.Nats;

/// <summary>
/// Festival events through NATS JetStream into nodes on PostgreSQL, each node a separate process (SIGKILL
/// is real). The events are plain JSON published by this test's own client, as an order system would.
/// </summary>
[Collection(NatsCollection.Name), Trait("Category", "Nats")]
public sealed class NatsIngestTests(NatsFixture nats, ITestOutputHelper output)
{
    private static string Paid(string eventId, string member, decimal amount, string day) =>
        $$"""{"eventId":"{{eventId}}","memberId":"{{member}}","type":"order.paid","orderId":"{{eventId}}","occurredAt":"2026-11-{{day}}T10:00:00+08:00","amount":{{amount.ToString(CultureInfo.InvariantCulture)}}}""";

    [Fact]
    public async Task The_same_events_through_nats_and_through_http_give_the_same_members_ledgers_and_refusals()
    {
        await using var run = new NatsRun(nats, "same");
        await run.CreateStreamsAsync();
        await using var node = await NodeProcess.StartAsync(nats.ConnectionString, run.Id, settings: run.NodeSettings);
        using var http = new HttpClient { BaseAddress = node.Url, Timeout = TimeSpan.FromSeconds(30) };

        // A history per member with tier upgrades, refunds, daily limits and events the members refuse
        // (a second sign-in the same day, a refund of an order never paid, an id reused with another body).
        var random = new Random(23);
        var events = new List<(string Member, Func<string, string> Body)>();
        for (var m = 0; m < 12; m++)
        {
            var member = $"m{m}";
            for (var i = 0; i < 14; i++)
            {
                var id = $"{member}-e{i}";
                var day = (1 + i).ToString("00", CultureInfo.InvariantCulture);
                var amount = random.Next(100, 300_000) / 100m;
                events.Add((member, random.Next(8) switch
                {
                    0 when i > 0 => who => $$"""{"eventId":"{{id}}","memberId":"{{who}}","type":"order.refunded","orderId":"{{member}}-e{{i - 1}}","amount":1,"occurredAt":"2026-11-{{day}}T12:00:00+08:00"}""",
                    1 => who => $$"""{"eventId":"{{id}}","memberId":"{{who}}","type":"order.refunded","orderId":"never-paid-{{i}}","amount":1,"occurredAt":"2026-11-{{day}}T12:00:00+08:00"}""",
                    2 => who => $$"""{"eventId":"{{id}}","memberId":"{{who}}","type":"sign-in","occurredAt":"2026-11-01T09:00:00+08:00"}""",
                    3 => who => $$"""{"eventId":"{{id}}","memberId":"{{who}}","type":"review","occurredAt":"2026-11-{{day}}T20:00:00+08:00"}""",
                    4 when i > 0 => who => Paid($"{member}-e{i - 1}", who, amount, day), // reuses the id before with another body
                    _ => who => Paid(id, who, amount, day),
                }));
            }
        }

        // A message is one write, as a POST of a batch of that one event is (a tier change is a ledger row of the
        // write that made it, so larger HTTP batches would group rows differently; a batch, so that a reused id
        // is listed among the rejected as a dead letter lists it, not a 409). Both in the same order.
        var refusedByHttp = new List<string>();
        foreach (var e in events)
        {
            var response = await http.PostAsync("/v1/programs/default/events", new StringContent($$"""{"events":[{{e.Body($"h-{run.Id}-{e.Member}")}}]}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            refusedByHttp.AddRange(doc.RootElement.GetProperty("rejected").EnumerateArray().Select(r => r.GetProperty("eventId").GetString()!));
        }
        foreach (var e in events) await run.PublishAsync("default", e.Body($"n-{run.Id}-{e.Member}"));
        await run.DrainedAsync(TimeSpan.FromSeconds(60));

        Assert.NotEmpty(refusedByHttp);
        var letters = await run.DeadLettersAsync();
        Assert.Equal(refusedByHttp.Order(), letters.Select(l => JsonNode.Parse(l.Body)!["eventId"]!.GetValue<string>()).Order());
        for (var m = 0; m < 12; m++)
        {
            foreach (var path in new[] { "", "/ledger?limit=1000" })
            {
                var byHttp = Normalized(await http.GetStringAsync($"/v1/programs/default/members/h-{run.Id}-m{m}{path}"));
                var byNats = Normalized(await http.GetStringAsync($"/v1/programs/default/members/n-{run.Id}-m{m}{path}"));
                Assert.Equal(byHttp, byNats);
            }
        }
    }

    /// <summary>Without what depends on the member's id or on when the node applied it (not on the events).</summary>
    private static string Normalized(string json)
    {
        var node = JsonNode.Parse(json)!;
        var joined = node["joinedAt"]?.GetValue<string>();
        void Strip(JsonNode? n)
        {
            switch (n)
            {
                case JsonObject o:
                    foreach (var key in new[] { "memberId", "joinedAt", "recordedAt" }) o.Remove(key);
                    foreach (var (key, value) in o.ToList())
                    {
                        if (value is JsonValue v && v.TryGetValue<string>(out var s) && s == joined) o.Remove(key);
                        else Strip(value);
                    }
                    break;
                case JsonArray a:
                    foreach (var item in a) Strip(item);
                    break;
            }
        }
        Strip(node);
        return node.ToJsonString();
    }

    [Fact]
    public async Task A_hundred_thousand_events_with_the_silo_killed_twice_are_all_applied_once_in_publish_order()
    {
        await using var run = new NatsRun(nats, "crash");
        await run.CreateStreamsAsync();
        const int members = 1000, perMember = 100;
        var killAt = new[] { 20_000UL, 60_000UL }; // acknowledged so far, when the silo dies
        var random = new Random(2311);
        var amounts = new decimal[members, perMember];
        for (var m = 0; m < members; m++)
        {
            for (var i = 0; i < perMember; i++) amounts[m, i] = random.Next(100, 1000) / 100m; // small: everyone stays at x1.0
        }

        var clock = Stopwatch.StartNew();
        var ports = NodeProcess.Ports.Free();
        var node = await NodeProcess.StartAsync(nats.ConnectionString, run.Id, ports, settings: run.NodeSettings);
        output.WriteLine($"{clock.Elapsed}: node started");
        try
        {
            // Event i of every member, then event i + 1 of every member, ...; a member's next event is
            // published once its previous one is stored, so each member's events are in the stream in order.
            var publishing = Task.Run(async () =>
            {
                using var window = new SemaphoreSlim(256);
                var last = Enumerable.Repeat(Task.CompletedTask, members).ToArray();
                for (var i = 0; i < perMember; i++)
                {
                    for (var m = 0; m < members; m++)
                    {
                        await last[m];
                        await window.WaitAsync();
                        var id = $"m{m}-e{i}";
                        last[m] = Publish(Paid(id, $"{run.Id}-m{m}", amounts[m, i], "01"), id);
                    }
                }
                await Task.WhenAll(last);

                async Task Publish(string body, string id)
                {
                    try { await run.PublishAsync("default", body, id); }
                    finally { window.Release(); }
                }
            });

            foreach (var threshold in killAt)
            {
                var deadline = Stopwatch.StartNew();
                while (await run.AcknowledgedUpToAsync() < threshold)
                {
                    Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(120), $"{threshold} events not acknowledged within 120 s");
                    await Task.Delay(50);
                }
                output.WriteLine($"{clock.Elapsed}: {threshold} acknowledged, killing");
                node.Kill();
                await node.DisposeAsync();
                node = await NodeProcess.StartAsync(nats.ConnectionString, run.Id, ports, settings: run.NodeSettings);
                output.WriteLine($"{clock.Elapsed}: node restarted");
            }
            await publishing;
            output.WriteLine($"{clock.Elapsed}: all published");
            await run.DrainedAsync(TimeSpan.FromSeconds(180));
            output.WriteLine($"{clock.Elapsed}: drained");

            // Each member's ledger holds each of its events once, in the order published, and its totals are the events'.
            var earns = await EarnsByMember(run);
            Assert.Equal(members, earns.Count);
            foreach (var (m, earned) in earns)
            {
                Assert.Equal(Enumerable.Range(0, perMember).Select(i => $"m{m}-e{i}"), earned.EventIds);
                Assert.Equal(Enumerable.Range(0, perMember).Sum(i => (long)decimal.Floor(amounts[m, i])), earned.Points);
                Assert.Equal(Enumerable.Range(0, perMember).Sum(i => (long)decimal.Floor(amounts[m, i] * 5)), earned.Growth);
            }
            Assert.Empty(await run.DeadLettersAsync());

            // And a member rebuilt from its ledger by the last node answers the same totals.
            using var http = new HttpClient { BaseAddress = node.Url };
            using var summary = JsonDocument.Parse(await http.GetStringAsync($"/v1/programs/default/members/{run.Id}-m7"));
            Assert.Equal(Enumerable.Range(0, perMember).Sum(i => (long)decimal.Floor(amounts[7, i])), summary.RootElement.GetProperty("points").GetProperty("balance").GetInt64());
        }
        finally
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task Malformed_messages_and_refused_events_go_to_the_dead_letters_with_their_reason_and_nothing_else_stops()
    {
        await using var run = new NatsRun(nats, "dead");
        await run.CreateStreamsAsync();
        await using var node = await NodeProcess.StartAsync(nats.ConnectionString, run.Id, settings: run.NodeSettings);
        var member = $"{run.Id}-m";

        await run.PublishAsync("default", Paid("ok-1", member, 100m, "01"));
        await run.PublishAsync("default", "this is not JSON");
        await run.PublishAsync("default", """{"eventId":"no-member","type":"order.paid","orderId":"o","amount":"5"}""");
        await run.PublishAsync("default", $$"""{"eventId":"twice","memberId":"{{member}}","type":"order.paid","orderId":"twice","amount":5,"amount":500}""");
        await run.PublishAsync("no-such-program", Paid("elsewhere", member, 5m, "01"));
        await run.PublishAsync("default", Paid("bad-amount", member, -5m, "01"));
        // A string that is not UTF-8 (the parser checks a string's bytes only when it is read).
        foreach (var notUtf8 in new[]
        {
            $$$"""{"eventId":"not-utf8","memberId":"{{{member}}}","type":"sign-in","attributes":{"k":"?"}}""",
            $$$"""{"eventId":"member-not-utf8","memberId":"{{{member}}}?","type":"sign-in"}""",
        })
        {
            await run.PublishAsync("default", [.. Encoding.UTF8.GetBytes(notUtf8).Select(b => b == '?' ? (byte)0xFF : b)]);
        }
        // Half a surrogate pair, as JavaScript writes a string cut in the middle of an emoji.
        await run.PublishAsync("default", $$$"""{"eventId":"half-pair","memberId":"{{{member}}}","type":"sign-in","attributes":{"note":"gift \ud83c"}}""");
        await run.PublishAsync("default", $$"""{"eventId":"never-paid","memberId":"{{member}}","type":"order.refunded","orderId":"nothing","amount":5,"occurredAt":"2026-11-02T10:00:00+08:00"}""");
        await run.PublishAsync("default", Paid("ok-2", member, 50m, "02"));
        await run.PublishAsync("default", Paid("ok-1", member, 999m, "01")); // its id used before with another body
        await run.DrainedAsync(TimeSpan.FromSeconds(60));

        var letters = (await run.DeadLettersAsync()).ToDictionary(l => l.Body.Contains("no-member") ? "no-member" : l.Body.Contains("twice") ? "twice"
            : l.Body.StartsWith('{') ? JsonNode.Parse(l.Body)!["eventId"]!.GetValue<string>() : l.Body);
        Assert.Equal(10, letters.Count);
        Assert.Equal(("malformed", "attributes.note"), (letters["half-pair"].Kind, letters["half-pair"].Field));
        Assert.Contains("half a UTF-16 surrogate pair", letters["half-pair"].Reason);
        foreach (var notUtf8 in new[] { "not-utf8", "member-not-utf8" })
        {
            Assert.Equal(("malformed", "$", "$: the body is not valid UTF-8"), (letters[notUtf8].Kind, letters[notUtf8].Field, letters[notUtf8].Reason));
        }
        Assert.Equal(("malformed", "$"), (letters["this is not JSON"].Kind, letters["this is not JSON"].Field));
        Assert.StartsWith("$: the body is not valid JSON", letters["this is not JSON"].Reason);
        // Every problem of the event at once, the first one's field in the header.
        Assert.Equal(("memberId", "memberId: is required; amount: must be a number"), (letters["no-member"].Field, letters["no-member"].Reason));
        Assert.Contains("amount", letters["twice"].Reason); // a property given twice is refused, as by the HTTP API
        Assert.Equal("subject: program 'no-such-program' not found", letters["elsewhere"].Reason);
        Assert.Equal($"{run.Options.DeadLetterSubject}.no-such-program", letters["elsewhere"].Subject);
        Assert.Equal(("rejected", "amount: must be greater than 0"), (letters["bad-amount"].Kind, letters["bad-amount"].Reason));
        Assert.Equal("rejected", letters["never-paid"].Kind);
        Assert.Contains("orderId", letters["never-paid"].Reason);
        // The code to switch on: the HTTP API's reason for a refusal, "invalid" for a field that breaks its rule.
        Assert.Equal(("unknown-order", "invalid", "id-reused"), (letters["never-paid"].Code, letters["bad-amount"].Code, letters["ok-1"].Code));
        Assert.All(letters.Values.Where(l => l.Kind == "malformed"), l => Assert.Equal("malformed", l.Code));

        // The good events on either side applied; the counters say what happened.
        using var http = new HttpClient { BaseAddress = node.Url };
        using var summary = JsonDocument.Parse(await http.GetStringAsync($"/v1/programs/default/members/{member}"));
        Assert.Equal(150, summary.RootElement.GetProperty("points").GetProperty("balance").GetInt64());
        using var counters = JsonDocument.Parse(await http.GetStringAsync("/v1/diagnostics/nats"));
        Assert.Equal(2, counters.RootElement.GetProperty("accepted").GetInt64());
        Assert.Equal(7, counters.RootElement.GetProperty("malformed").GetInt64());
        Assert.Equal(3, counters.RootElement.GetProperty("rejected").GetInt64());
        Assert.Equal((true, "consuming", JsonValueKind.Null), (counters.RootElement.GetProperty("running").GetBoolean(),
            counters.RootElement.GetProperty("state").GetString(), counters.RootElement.GetProperty("lastError").ValueKind));

        // The same counts in /metrics.
        var scrape = await Series.Scrape(http);
        Assert.Equal(12, scrape.Value("membership_nats_messages_received_total"));
        Assert.Equal((2, 0), (scrape.Value("membership_nats_events_total", ("result", "accepted")), scrape.Value("membership_nats_events_total", ("result", "duplicate"))));
        Assert.Equal((7, 3), (scrape.Value("membership_nats_dead_letters_total", ("kind", "malformed")), scrape.Value("membership_nats_dead_letters_total", ("kind", "rejected"))));
        Assert.Equal((0, 0, 1), (scrape.Value("membership_nats_messages_held"), scrape.Value("membership_nats_members_retrying"), scrape.Value("membership_nats_consuming")));
    }

    [Fact]
    public async Task A_node_whose_broker_is_away_says_it_does_not_consume_and_why()
    {
        await using var run = new NatsRun(nats, "away");
        // A port where nothing listens.
        var away = $"nats://127.0.0.1:{NodeProcess.Ports.Free().Http}";
        var settings = run.NodeSettings.Select(s => s.StartsWith("--Membership:Streams:Nats:Url=", StringComparison.Ordinal) ? $"--Membership:Streams:Nats:Url={away}" : s);
        await using var node = await NodeProcess.StartAsync("", run.Id, settings: settings);
        using var http = new HttpClient { BaseAddress = node.Url };

        var deadline = Stopwatch.StartNew();
        JsonElement counters;
        while (true)
        {
            counters = JsonDocument.Parse(await http.GetStringAsync("/v1/diagnostics/nats")).RootElement;
            if (counters.GetProperty("lastError").ValueKind != JsonValueKind.Null) break;
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), $"no error reported within 30 s: {counters}");
            await Task.Delay(200);
        }
        Assert.Equal((false, "connecting"), (counters.GetProperty("running").GetBoolean(), counters.GetProperty("state").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(counters.GetProperty("lastError").GetString()));
        Assert.InRange(counters.GetProperty("lastErrorAt").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(5));
        Assert.Equal(0, (await Series.Scrape(http)).Value("membership_nats_consuming"));
    }

    [Fact]
    public async Task A_node_stopped_by_SIGTERM_mid_backlog_finishes_its_calls_quietly_and_the_next_node_applies_the_rest_once()
    {
        await using var run = new NatsRun(nats, "sigterm");
        await run.CreateStreamsAsync();
        const int members = 400, perMember = 20;
        // Event i of every member, then event i + 1: each member's events are stored in order.
        for (var i = 0; i < perMember; i++)
        {
            await Task.WhenAll(Enumerable.Range(0, members).Select(m => run.PublishAsync("default", Paid($"m{m}-e{i}", $"{run.Id}-m{m}", 1m + i, "01"), $"m{m}-e{i}")));
        }

        var node = await NodeProcess.StartAsync(nats.ConnectionString, run.Id, settings: run.NodeSettings);
        try
        {
            var deadline = Stopwatch.StartNew();
            ulong acknowledged;
            while ((acknowledged = await run.AcknowledgedUpToAsync()) < 500)
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "500 events not acknowledged within 60 s");
                await Task.Delay(20);
            }
            var before = node.Output.Count;
            node.Terminate();
            Assert.True(await node.ExitedAsync(TimeSpan.FromSeconds(45)), "the node did not exit within 45 s of SIGTERM");
            output.WriteLine($"SIGTERM after {acknowledged} of {members * perMember} acknowledged");
            Assert.True(acknowledged < members * perMember, "the backlog was gone before SIGTERM: nothing was in flight");
            var after = node.Output.Skip(before).ToList();
            foreach (var line in after.Where(l => l.StartsWith("fail:", StringComparison.Ordinal) || l.Contains("NatsEventPump", StringComparison.Ordinal)).Take(20)) output.WriteLine(line);
            Assert.DoesNotContain(after, l => l.StartsWith("fail:", StringComparison.Ordinal));
            Assert.DoesNotContain(after, l => l.StartsWith("warn: Orleans.Membership.Silo.Nats.NatsEventPump", StringComparison.Ordinal));
        }
        finally
        {
            await node.DisposeAsync();
        }

        await using var next = await NodeProcess.StartAsync(nats.ConnectionString, run.Id, settings: run.NodeSettings);
        await run.DrainedAsync(TimeSpan.FromSeconds(120));
        var earns = await EarnsByMember(run);
        Assert.Equal(members, earns.Count);
        foreach (var (m, earned) in earns) Assert.Equal(Enumerable.Range(0, perMember).Select(i => $"m{m}-e{i}"), earned.EventIds);
        Assert.Empty(await run.DeadLettersAsync());
    }

    [Fact]
    public async Task A_dead_letter_the_server_could_not_take_whole_is_stored_cut_and_the_stream_goes_on()
    {
        await using var run = new NatsRun(nats, "large");
        await run.CreateStreamsAsync();
        await using var node = await NodeProcess.StartAsync(nats.ConnectionString, run.Id, settings: run.NodeSettings);
        var member = $"{run.Id}-m";

        // Not JSON, as large as the server takes: with the headers it would be more.
        var largest = (int)nats.Connection.ServerInfo!.MaxPayload - 512;
        await run.PublishAsync("default", new string('x', largest));
        // A field name of 300 KB, named twice by the reason and once by the field: more than the server takes.
        var name = new string('k', 300_000);
        await run.PublishAsync("default", $$$"""{"eventId":"huge-name","memberId":"{{{member}}}","type":"sign-in","{{{name}}}":1}""");
        // Headers are ASCII: other characters are escaped.
        await run.PublishAsync("default", $$$"""{"eventId":"chinese","memberId":"{{{member}}}","type":"签到奖励"}""");
        await run.PublishAsync("default", Paid("ok", member, 100m, "01"));
        await run.DrainedAsync(TimeSpan.FromSeconds(60));

        var letters = await run.DeadLettersAsync();
        Assert.Equal(3, letters.Count);
        var whole = Assert.Single(letters, l => l.BodyOmitted is not null);
        Assert.Equal((largest.ToString(CultureInfo.InvariantCulture), "", "malformed"), (whole.BodyOmitted, whole.Body, whole.Kind));
        var huge = Assert.Single(letters, l => l.Body.Contains("huge-name", StringComparison.Ordinal));
        Assert.Equal("malformed", huge.Kind);
        Assert.True(huge.Reason.Length <= 503 && huge.Reason.EndsWith("...", StringComparison.Ordinal), huge.Reason[..Math.Min(80, huge.Reason.Length)]);
        var chinese = Assert.Single(letters, l => l.Body.Contains("chinese", StringComparison.Ordinal));
        Assert.Contains("\\u7b7e\\u5230\\u5956\\u52b1", chinese.Reason);
        using var http = new HttpClient { BaseAddress = node.Url };
        using var summary = JsonDocument.Parse(await http.GetStringAsync($"/v1/programs/default/members/{member}"));
        Assert.Equal(100, summary.RootElement.GetProperty("points").GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task When_the_broker_restarts_the_dispatcher_takes_the_consumer_over_and_every_event_applies_once()
    {
        // A broker of this test's own: the shared one serves the other tests.
        await using var broker = await RestartableBroker.StartAsync();
        var run = new NatsRun(nats, "restart");
        await using var connection = new NatsConnection(new NatsOpts { Url = broker.Url, Name = "restart-test" });
        var js = new NatsJSContext(connection);
        await NatsTopology.EnsureStreamsAsync(js, run.Options, CancellationToken.None);
        var settings = run.NodeSettings.Select(s => s.StartsWith("--Membership:Streams:Nats:Url=", StringComparison.Ordinal) ? $"--Membership:Streams:Nats:Url={broker.Url}" : s);
        await using var node = await NodeProcess.StartAsync(nats.ConnectionString, run.Id, settings: settings);
        const int members = 100;
        async Task Publish(string body, string msgId)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var ack = await js.PublishAsync($"{run.Options.Subject}.default", Encoding.UTF8.GetBytes(body), opts: new NatsJSPubOpts { MsgId = msgId });
                    if (!ack.Duplicate) ack.EnsureSuccess();
                    return;
                }
                catch (NatsException) when (attempt < 100)
                {
                    await Task.Delay(100); // the broker is starting again
                }
            }
        }
        async Task Drained()
        {
            for (var waited = Stopwatch.StartNew(); ; await Task.Delay(200))
            {
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(90), "the stream was not drained");
                try
                {
                    if ((await js.GetConsumerAsync(run.Options.Stream, run.Options.Consumer)).Info is { NumPending: 0, NumAckPending: 0 }) return;
                }
                catch (Exception e) when (e is NatsException or NatsJSApiException)
                {
                }
            }
        }

        for (var m = 0; m < members; m++) await Publish(Paid($"paid-{m}", $"{run.Id}-m{m}", 100m + m, "01"), $"paid-{m}");
        await Drained();
        broker.Kill();
        await broker.StartAgainAsync();
        // A refund needs its order applied first: applied out of order it would be refused.
        for (var m = 0; m < members; m++)
        {
            await Publish($$"""{"eventId":"refund-{{m}}","memberId":"{{run.Id}}-m{{m}}","type":"order.refunded","orderId":"paid-{{m}}","amount":50,"occurredAt":"2026-11-02T10:00:00+08:00"}""", $"refund-{m}");
        }
        await Drained();

        Assert.Contains(node.Output, line => line.Contains("The NATS connection was opened again", StringComparison.Ordinal));
        using var http = new HttpClient { BaseAddress = node.Url };
        for (var m = 0; m < members; m++)
        {
            using var summary = JsonDocument.Parse(await http.GetStringAsync($"/v1/programs/default/members/{run.Id}-m{m}"));
            Assert.Equal(50 + m, summary.RootElement.GetProperty("points").GetProperty("balance").GetInt64());
        }
        using var counters = JsonDocument.Parse(await http.GetStringAsync("/v1/diagnostics/nats"));
        Assert.Equal((2L * members, 0L), (counters.RootElement.GetProperty("accepted").GetInt64(), counters.RootElement.GetProperty("deadLettered").GetInt64()));
    }

    [Fact]
    public async Task An_event_without_occurredAt_happened_when_the_broker_stored_it_not_when_a_backlog_reaches_it()
    {
        await using var run = new NatsRun(nats, "stored-at");
        await run.CreateStreamsAsync();
        var member = $"{run.Id}-late";
        var publishing = DateTimeOffset.UtcNow;
        await run.PublishAsync("default", $$"""{"eventId":"late-1","memberId":"{{member}}","type":"order.paid","orderId":"late-o","amount":10}""");
        var stored = DateTimeOffset.UtcNow; // the node starts after this: it applies the event later still
        await using var node = await NodeProcess.StartAsync("", run.Id, settings: run.NodeSettings);
        await run.DrainedAsync(TimeSpan.FromSeconds(60));

        using var http = new HttpClient { BaseAddress = node.Url };
        using var ledger = JsonDocument.Parse(await http.GetStringAsync($"/v1/programs/default/members/{member}/ledger?limit=1"));
        var entry = ledger.RootElement.GetProperty("entries")[0];
        var occurredAt = entry.GetProperty("occurredAt").GetDateTimeOffset();
        Assert.InRange(occurredAt, publishing.AddSeconds(-1), stored); // the broker's store time, give or take its clock
        Assert.True(entry.GetProperty("recordedAt").GetDateTimeOffset() > stored);
    }

    [Fact]
    public async Task A_node_warns_at_start_of_each_program_that_producers_cannot_publish_to()
    {
        await using var run = new NatsRun(nats, "subjects");
        string[] unpublishable = [$".{run.Id}", $"{run.Id}.", $"{run.Id}..x"];
        var publishable = $"{run.Id}.fest";
        // Programs made through a node, which then stops (a rolling deploy).
        var first = await NodeProcess.StartAsync(nats.ConnectionString, run.Id);
        try
        {
            using var http = new HttpClient { BaseAddress = first.Url };
            foreach (var id in (string[])[.. unpublishable, publishable])
            {
                using var put = await http.PutAsync($"/v1/programs/{id}", new StringContent(Support.TestPrograms.Json("default"), Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            }
            first.Terminate();
            Assert.True(await first.ExitedAsync(TimeSpan.FromSeconds(45)), "the first node did not exit within 45 s of SIGTERM");
        }
        finally
        {
            await first.DisposeAsync();
        }

        await using var node = await NodeProcess.StartAsync(nats.ConnectionString, run.Id, settings: run.NodeSettings);
        bool Warned(string id) => node.Output.Any(l => l.Contains($"Producers cannot publish events of program {id} over NATS", StringComparison.Ordinal));
        var deadline = Stopwatch.StartNew();
        while (!unpublishable.All(Warned) && deadline.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(100);
        Assert.All(unpublishable, id => Assert.True(Warned(id), $"no warning names program '{id}'"));
        Assert.Contains(node.Output, l => l.Contains($"program {run.Id}. over NATS: it ends with a dot, so {run.Options.Subject}.{run.Id}. is not a NATS subject", StringComparison.Ordinal));
        Assert.False(Warned(publishable));
    }

    [Fact]
    public async Task A_backlog_waiting_before_a_new_node_starts_is_applied_once_its_programs_exist()
    {
        await using var run = new NatsRun(nats, "backlog");
        await run.CreateStreamsAsync();
        const int members = 50;
        // An embedded node makes its shipped programs at every start: the backlog is there before them.
        for (var m = 0; m < members; m++) await run.PublishAsync("default", Paid($"waiting-{m}", $"{run.Id}-m{m}", 100m + m, "01"));
        await using var node = await NodeProcess.StartAsync("", run.Id, settings: run.NodeSettings);
        await run.DrainedAsync(TimeSpan.FromSeconds(60));

        Assert.Empty(await run.DeadLettersAsync());
        using var http = new HttpClient { BaseAddress = node.Url };
        for (var m = 0; m < members; m++)
        {
            using var summary = JsonDocument.Parse(await http.GetStringAsync($"/v1/programs/default/members/{run.Id}-m{m}"));
            Assert.Equal(100 + m, summary.RootElement.GetProperty("points").GetProperty("balance").GetInt64());
        }
    }

    [Fact]
    public async Task A_stream_the_producer_made_before_the_engine_is_read_and_keeps_the_dead_letters_too()
    {
        await using var run = new NatsRun(nats, "own");
        // The order system made its own stream, under another name, for every subject under the run's prefix.
        var own = $"T_{run.Id.Replace('-', '_')}_OWN";
        await nats.JetStream.CreateStreamAsync(new StreamConfig(own, [$"t.{run.Id}.>"]) { Retention = StreamConfigRetention.Workqueue });
        try
        {
            await run.PublishAsync("default", Paid("own-1", $"{run.Id}-m1", 120m, "01"));
            await run.PublishAsync("default", "not JSON");
            await using var node = await NodeProcess.StartAsync("", run.Id, settings: run.NodeSettings);
            await run.DrainedAsync(TimeSpan.FromSeconds(60), own);

            using var http = new HttpClient { BaseAddress = node.Url };
            using var summary = JsonDocument.Parse(await http.GetStringAsync($"/v1/programs/default/members/{run.Id}-m1"));
            Assert.Equal(120, summary.RootElement.GetProperty("points").GetProperty("balance").GetInt64());
            // The engine made no stream of its own (nats-server would have refused its overlapping subjects);
            // the dead letter is in the producer's stream, on the dead-letter subject.
            foreach (var name in new[] { run.Options.Stream, run.Options.DeadLetterStream })
            {
                var missing = await Assert.ThrowsAsync<NatsJSApiException>(() => nats.JetStream.GetStreamAsync(name).AsTask());
                Assert.Equal(404, missing.Error.Code);
            }
            var letter = await (await nats.JetStream.GetStreamAsync(own)).GetAsync(new StreamMsgGetRequest { LastBySubj = $"{run.Options.DeadLetterSubject}.default" });
            Assert.Equal("not JSON", Encoding.UTF8.GetString(letter.Message.Data.Span));
        }
        finally
        {
            await nats.JetStream.DeleteStreamAsync(own);
        }
    }

    [Fact]
    public async Task A_dead_letter_of_an_events_stream_made_again_is_kept_beside_the_one_of_the_same_sequence_before()
    {
        await using var run = new NatsRun(nats, "remade");
        await run.CreateStreamsAsync();
        await using var node = await NodeProcess.StartAsync("", run.Id, settings: run.NodeSettings);
        await run.PublishAsync("default", "first, not JSON");
        await run.DrainedAsync(TimeSpan.FromSeconds(60));

        // An operator deletes the events stream and makes it again: its sequence starts at 1 again.
        await nats.JetStream.DeleteStreamAsync(run.Options.Stream);
        await run.CreateStreamsAsync();
        await run.PublishAsync("default", "second, not JSON");
        await run.DrainedAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(["first, not JSON", "second, not JSON"], (await run.DeadLettersAsync()).Select(l => l.Body));
    }

    [Fact]
    public async Task A_message_dead_lettered_before_it_was_terminated_is_terminated_when_it_comes_again()
    {
        await using var run = new NatsRun(nats, "again");
        await run.CreateStreamsAsync();
        await run.PublishAsync("default", "not JSON, dead-lettered once already");
        // A dispatcher stored its dead letter and died before terminating it: the dead letter is there.
        var stored = await nats.JetStream.GetStreamAsync(run.Options.Stream);
        var first = await stored.GetAsync(new StreamMsgGetRequest { Seq = 1 });
        var ack = await nats.JetStream.PublishAsync($"{run.Options.DeadLetterSubject}.default", Encoding.UTF8.GetBytes("not JSON, dead-lettered once already"),
            opts: new NatsJSPubOpts { MsgId = NatsEventPump.DeadLetterId(run.Options.Stream, 1, first.Message.Time) });
        ack.EnsureSuccess();

        await using var node = await NodeProcess.StartAsync("", run.Id, settings: run.NodeSettings);
        await run.DrainedAsync(TimeSpan.FromSeconds(60));
        Assert.Single(await run.DeadLettersAsync());
    }

    [Fact]
    public async Task With_two_silos_killing_the_dispatchers_silo_leaves_its_work_to_the_other()
    {
        await using var run = new NatsRun(nats, "two");
        await run.CreateStreamsAsync();
        var silo1 = await NodeProcess.StartAsync(nats.ConnectionString, run.Id, settings: run.NodeSettings);
        var silo2 = await NodeProcess.StartAsync(nats.ConnectionString, run.Id, settings: run.NodeSettings);
        try
        {
            using var http1 = new HttpClient { BaseAddress = silo1.Url, Timeout = TimeSpan.FromSeconds(10) };
            using var http2 = new HttpClient { BaseAddress = silo2.Url, Timeout = TimeSpan.FromSeconds(10) };
            const int members = 40;
            for (var m = 0; m < members; m++) await run.PublishAsync("default", Paid($"first-{m}", $"{run.Id}-m{m}", 100m, "01"));
            await run.DrainedAsync(TimeSpan.FromSeconds(60));

            // Kill the silo that runs the dispatcher (the other one's members then live on alone).
            using var where = JsonDocument.Parse(await http1.GetStringAsync("/v1/diagnostics/nats"));
            var dispatcherSilo = where.RootElement.GetProperty("silo").GetString()!;
            var (victim, survivor, survivorHttp) = dispatcherSilo.Contains($":{silo1.SiloPort}:", StringComparison.Ordinal) ? (silo1, silo2, http2) : (silo2, silo1, http1);
            victim.Kill();

            for (var m = 0; m < members; m++) await run.PublishAsync("default", Paid($"second-{m}", $"{run.Id}-m{m}", 50m, "02"));
            await run.DrainedAsync(TimeSpan.FromSeconds(120));

            using var after = JsonDocument.Parse(await survivorHttp.GetStringAsync("/v1/diagnostics/nats"));
            Assert.Contains($":{survivor.SiloPort}:", after.RootElement.GetProperty("silo").GetString());
            for (var m = 0; m < members; m++)
            {
                using var summary = JsonDocument.Parse(await survivorHttp.GetStringAsync($"/v1/programs/default/members/{run.Id}-m{m}"));
                Assert.Equal(150, summary.RootElement.GetProperty("points").GetProperty("balance").GetInt64());
            }
        }
        finally
        {
            await silo1.DisposeAsync();
            await silo2.DisposeAsync();
        }
    }

    /// <summary>The earn entries of each member m of the run (<c>{run}-m{m}</c>) in its ledger: event ids in ledger order, point and growth sums.</summary>
    private async Task<Dictionary<int, (string[] EventIds, long Points, long Growth)>> EarnsByMember(NatsRun run)
    {
        await using var db = new NpgsqlConnection(nats.ConnectionString);
        await db.OpenAsync();
        await using var query = new NpgsqlCommand(
            "select member_key, array_agg(event_id order by seq), sum(points), sum(growth) from member_ledger where member_key like @prefix and kind = 'earn' group by member_key", db);
        query.Parameters.AddWithValue("prefix", $"default/{run.Id}-m%");
        var earns = new Dictionary<int, (string[], long, long)>();
        await using var reader = await query.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var m = int.Parse(reader.GetString(0).AsSpan($"default/{run.Id}-m".Length), CultureInfo.InvariantCulture);
            earns[m] = (reader.GetFieldValue<string[]>(1), reader.GetInt64(2), reader.GetInt64(3));
        }
        return earns;
    }
}
