using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Core.Internal;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Grains;
using Orleans.Membership.Tests.Support;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace Orleans.Membership.Tests.Api;

/// <summary>
/// A node whose webhooks retry fast (three attempts, 20 ms then 40 ms apart) and may reach receivers on
/// this machine: loopback is allow-listed, as an operator would allow an on-premises network.
/// </summary>
public sealed class WebhookNodeFixture : NodeFixture
{
    protected override IEnumerable<string> ExtraArgs =>
    [
        "--Membership:Webhooks:MaxAttempts=3",
        "--Membership:Webhooks:FirstRetryDelay=00:00:00.020",
        "--Membership:Webhooks:AllowedNetworks:0=127.0.0.0/8",
        "--Membership:Webhooks:AllowedNetworks:1=::1/128",
    ];
}

/// <summary>
/// A webhook receiver on 127.0.0.1 that refuses the first attempts of each delivery as told (500), or
/// answers every request with a redirect. Deliveries are told apart by their <c>webhook-id</c>.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public sealed record Delivery(string Id, string Body, IHeaderDictionary Headers, int Attempt);

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _attempts = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<Delivery>> _accepted = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<int>> _attempted = new();
    private int _requests;

    /// <summary>Attempts of each delivery answered 500 before one is taken; int.MaxValue refuses all.</summary>
    public volatile int RefuseFirst;

    /// <summary>When set, every request is answered 307 to this URL.</summary>
    public volatile string? RedirectTo;

    public string Url { get; }

    /// <summary>Requests received, of any delivery.</summary>
    public int Requests => Volatile.Read(ref _requests);

    private WebhookReceiver(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        WebhookReceiver? self = null;
        app.MapPost("/hook", async (HttpRequest request) =>
        {
            Interlocked.Increment(ref self!._requests);
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            if (self.RedirectTo is { } target) return Results.Redirect(target, permanent: false, preserveMethod: true);
            var id = request.Headers["webhook-id"].ToString();
            var attempt = self._attempts.AddOrUpdate(id, 1, (_, n) => n + 1);
            self._attempted.GetOrAdd($"{id}#{attempt}", _ => new()).TrySetResult(attempt);
            if (attempt <= self.RefuseFirst) return Results.StatusCode(500);
            var headers = new HeaderDictionary();
            foreach (var (name, value) in request.Headers) headers[name] = value;
            var delivery = new Delivery(id, body, headers, attempt);
            self._accepted.GetOrAdd(id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(delivery);
            return Results.Ok();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        self = new WebhookReceiver(app, address + "/hook");
        return self;
    }

    public Task<Delivery> Accepted(string changeId) => _accepted.GetOrAdd(changeId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(TimeSpan.FromSeconds(30));

    public Task<int> Attempted(string changeId, int attempt) => _attempted.GetOrAdd($"{changeId}#{attempt}", _ => new()).Task.WaitAsync(TimeSpan.FromSeconds(30));

    public int Attempts(string changeId) => _attempts.GetValueOrDefault(changeId);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class WebhookNodeCollection : ICollectionFixture<WebhookNodeFixture>
{
    public const string Name = "webhook-node";
}

/// <summary>Member changes over HTTP: signed webhooks with retries, dead letters and replay, the live feed.</summary>
[Collection(WebhookNodeCollection.Name)]
public sealed class ChangeFeedTests(WebhookNodeFixture node)
{
    /// <summary>A Standard Webhooks secret: "whsec_" and the base64 of 32 bytes.</summary>
    private static readonly string Secret = "whsec_" + Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray());

    /// <summary>A program of its own (the default rules) so each test has its own feed and webhooks.</summary>
    private async Task<string> NewProgram()
    {
        var id = $"hooks-{Guid.NewGuid():N}"[..20];
        var (status, _) = await node.Http.Send(HttpMethod.Put, $"/v1/programs/{id}", TestPrograms.Json("default"));
        Assert.Equal(HttpStatusCode.OK, status);
        return id;
    }

    /// <summary>Earns points for a member, then redeems 100: the redemption is the change the tests follow.</summary>
    private async Task<string> Redeem(string program, string member, string redemptionId)
    {
        var paid = $$"""{"eventId":"{{member}}-p","memberId":"{{member}}","type":"order.paid","orderId":"{{member}}-o","amount":500}""";
        Assert.Equal(HttpStatusCode.OK, (await node.Http.Post($"/v1/programs/{program}/events", paid)).Status);
        var (status, body) = await node.Http.Post($"/v1/programs/{program}/members/{member}/points/redemptions", $$"""{"redemptionId":"{{redemptionId}}","points":100}""");
        Assert.Equal(HttpStatusCode.Created, status);
        var (_, ledger) = await node.Http.Get($"/v1/programs/{program}/members/{member}/ledger");
        var row = ledger.GetProperty("entries").EnumerateArray().Single(e => e.GetProperty("kind").GetString() == "redeem");
        return ChangeId(member, ledger, row.GetProperty("seq").GetInt64());
    }

    /// <summary>The change id of a ledger row (docs/streams.md): <c>"{memberId}:{since}:{seq}"</c>, since the Unix microsecond the member's first row was recorded.</summary>
    private static string ChangeId(string member, JsonElement ledger, long seq)
    {
        var first = ledger.GetProperty("entries").EnumerateArray().Single(e => e.GetProperty("seq").GetInt64() == 1);
        var since = (first.GetProperty("recordedAt").GetDateTimeOffset() - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;
        return $"{member}:{since}:{seq}";
    }

    private async Task UseWebhook(string program, string url, string? secret = null)
    {
        var (status, body) = await node.Http.Send(HttpMethod.Put, $"/v1/programs/{program}/webhooks", $$"""{"webhooks":[{"url":"{{url}}","secret":"{{secret ?? Secret}}"}]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(url, body.GetProperty("webhooks")[0].GetProperty("url").GetString());
    }

    [Fact]
    public async Task A_webhook_gets_each_change_signed_and_retried_until_it_takes_it()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RefuseFirst = 2;
        var program = await NewProgram();
        await UseWebhook(program, receiver.Url);

        var changeId = await Redeem(program, "m1", "r-1");

        var delivery = await receiver.Accepted(changeId);
        Assert.Equal(3, delivery.Attempt);
        // An off-the-shelf Standard Webhooks verifier takes it with the secret, and refuses it with another one.
        new StandardWebhook(Secret).Verify(delivery.Body, delivery.Headers);
        Assert.Throws<WebhookVerificationException>(() => new StandardWebhook("whsec_" + Convert.ToBase64String(new byte[32])).Verify(delivery.Body, delivery.Headers));
        Assert.Equal(changeId, delivery.Headers["webhook-id"].ToString());
        Assert.StartsWith("v1,", delivery.Headers["webhook-signature"].ToString());
        Assert.DoesNotContain(delivery.Headers.Keys, h => h.StartsWith("X-Membership", StringComparison.OrdinalIgnoreCase));
        var change = JsonDocument.Parse(delivery.Body).RootElement;
        Assert.Equal("points-redeemed", change.GetProperty("type").GetString());
        Assert.Equal(changeId, change.GetProperty("id").GetString());
        Assert.Equal(100, change.GetProperty("points").GetInt64());
        Assert.Equal("r-1", change.GetProperty("callerId").GetString());
        Assert.Equal(program, change.GetProperty("programId").GetString());
        Assert.Empty((await node.Http.Get($"/v1/programs/{program}/webhooks/dead-letters")).Body.GetProperty("deadLetters").EnumerateArray());
    }

    [Fact]
    public async Task A_change_no_attempt_delivers_is_a_dead_letter_until_replayed()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RefuseFirst = int.MaxValue;
        var program = await NewProgram();
        await UseWebhook(program, receiver.Url);

        var changeId = await Redeem(program, "m2", "r-2");
        await receiver.Attempted(changeId, 3);

        // The third refusal parks the change: wait until the dead letters are stored. The order also moved
        // the member up a tier: that change is refused and parked too, on its own schedule, so both are
        // waited for (the replay below counts them).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonElement? letter = null;
        var parked = 0;
        while (letter is null || parked < 2)
        {
            var letters = (await node.Http.Get($"/v1/programs/{program}/webhooks/dead-letters")).Body.GetProperty("deadLetters");
            parked = letters.GetArrayLength();
            letter = letters.EnumerateArray().Cast<JsonElement?>().FirstOrDefault(l => l!.Value.GetProperty("change").GetProperty("id").GetString() == changeId);
            if ((letter is null || parked < 2) && DateTime.UtcNow > deadline) throw new TimeoutException($"{parked} dead letters; the one for {changeId}: {letter is not null}");
            if (letter is null || parked < 2) await Task.Delay(20);
        }
        Assert.Equal(receiver.Url, letter.Value.GetProperty("url").GetString());
        Assert.Equal(3, letter.Value.GetProperty("attempts").GetInt32());
        Assert.Equal("http-500", letter.Value.GetProperty("lastError").GetString());
        Assert.Equal("points-redeemed", letter.Value.GetProperty("change").GetProperty("type").GetString());
        Assert.Equal(3, receiver.Attempts(changeId));

        receiver.RefuseFirst = 0;
        var (status, replay) = await node.Http.Post($"/v1/programs/{program}/webhooks/dead-letters/replay", "{}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, replay.GetProperty("replayed").GetInt32()); // the tier change and the redemption
        var delivery = await receiver.Accepted(changeId);
        Assert.Equal(4, delivery.Attempt);
        Assert.Empty((await node.Http.Get($"/v1/programs/{program}/webhooks/dead-letters")).Body.GetProperty("deadLetters").EnumerateArray());
    }

    [Fact]
    public async Task Erasing_a_member_takes_its_changes_out_of_the_feed_and_the_dead_letters()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RefuseFirst = int.MaxValue;
        var program = await NewProgram();
        await UseWebhook(program, receiver.Url);
        var erased = await Redeem(program, "gone", "r-gone");
        var kept = await Redeem(program, "stays", "r-stays");
        await receiver.Attempted(erased, 3);
        await receiver.Attempted(kept, 3);
        // Each member's redemption and tier change park: four dead letters.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await node.Http.Get($"/v1/programs/{program}/webhooks/dead-letters")).Body.GetProperty("deadLetters").GetArrayLength() < 4)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the four dead letters were not parked");
            await Task.Delay(20);
        }
        var feed = node.Services.GetRequiredService<IGrainFactory>().GetGrain<IChangeFeedGrain>(program);
        Assert.Contains((await feed.Wait(0, 1000, TimeSpan.Zero)).Items, i => i.Change.MemberId == "gone");

        Assert.Equal(HttpStatusCode.NoContent, (await node.Http.Send(HttpMethod.Delete, $"/v1/programs/{program}/members/gone", null)).Status);

        var members = (await feed.Wait(0, 1000, TimeSpan.Zero)).Items.Select(i => i.Change.MemberId).Distinct();
        Assert.Equal(["stays"], members);
        var letters = (await node.Http.Get($"/v1/programs/{program}/webhooks/dead-letters")).Body.GetProperty("deadLetters").EnumerateArray();
        Assert.Equal(["stays", "stays"], letters.Select(l => l.GetProperty("change").GetProperty("memberId").GetString()));
    }

    [Fact]
    public async Task A_plain_secret_signs_with_its_utf8_bytes()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var program = await NewProgram();
        const string plain = "a-secret-of-some-length";
        await UseWebhook(program, receiver.Url, plain);

        var delivery = await receiver.Accepted(await Redeem(program, "m4", "r-4"));
        new StandardWebhook(Encoding.UTF8.GetBytes(plain)).Verify(delivery.Body, delivery.Headers);
        new StandardWebhook("whsec_" + Convert.ToBase64String(Encoding.UTF8.GetBytes(plain))).Verify(delivery.Body, delivery.Headers);
    }

    [Fact]
    public async Task A_redirect_is_a_failed_delivery_and_is_not_followed()
    {
        // A receiver that answers 307 would otherwise get the signed change sent on to wherever it points.
        await using var elsewhere = await WebhookReceiver.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RedirectTo = elsewhere.Url;
        var program = await NewProgram();
        await UseWebhook(program, receiver.Url);

        var changeId = await Redeem(program, "m5", "r-5");
        var letter = await DeadLetter(program, changeId);
        Assert.Equal("http-307", letter.GetProperty("lastError").GetString());
        Assert.Equal(0, elsewhere.Requests);
    }

    [Fact]
    public async Task A_dead_letter_says_why_in_a_word_and_nothing_about_the_socket()
    {
        // A closed port on this machine: the delivery is refused; the letter must not read like a port scan.
        var closed = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var program = await NewProgram();
        await UseWebhook(program, $"http://127.0.0.1:{port}/hook");

        var changeId = await Redeem(program, "m6", "r-6");
        var letter = await DeadLetter(program, changeId);
        Assert.Equal("refused", letter.GetProperty("lastError").GetString());
    }

    /// <summary>Waits for the dead letter of a change.</summary>
    private async Task<JsonElement> DeadLetter(string program, string changeId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var letters = (await node.Http.Get($"/v1/programs/{program}/webhooks/dead-letters")).Body.GetProperty("deadLetters");
            foreach (var letter in letters.EnumerateArray())
            {
                if (letter.GetProperty("change").GetProperty("id").GetString() == changeId) return letter.Clone();
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no dead letter for {changeId}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task The_live_feed_streams_changes_as_server_sent_events()
    {
        var program = await NewProgram();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/programs/{program}/changes");
        using var response = await node.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var changeId = await Redeem(program, "m3", "r-3");

        var lines = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!lines.Any(l => l.StartsWith("data: ", StringComparison.Ordinal) && l.Contains(changeId, StringComparison.Ordinal)))
        {
            lines.Add(await reader.ReadLineAsync(timeout.Token) ?? throw new EndOfStreamException());
        }
        var data = lines.Last();
        var eventLine = lines[^2];
        Assert.Equal("event: points-redeemed", eventLine);
        Assert.StartsWith("id: ", lines[^3]);
        Assert.Equal("r-3", JsonDocument.Parse(data["data: ".Length..]).RootElement.GetProperty("callerId").GetString());
    }

    [Fact]
    public async Task Bad_webhooks_are_refused_by_field_and_change_nothing()
    {
        var program = await NewProgram();
        await UseWebhook(program, "http://127.0.0.1:9/kept");
        var (status, problem) = await node.Http.Send(HttpMethod.Put, $"/v1/programs/{program}/webhooks",
            """{"webhooks":[{"url":"ftp://example.org/x","secret":"a-secret-of-some-length"},{"url":"http://127.0.0.1:9/ok","secret":"short"},{"url":"http://127.0.0.1:9/ok2","secret":"a-secret-of-some-length","extra":1}],"other":true}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("http", problem.ErrorFor("webhooks[0].url"));
        Assert.Contains("16", problem.ErrorFor("webhooks[1].secret"));
        Assert.Equal("unknown field", problem.ErrorFor("webhooks[2].extra"));
        Assert.Equal("unknown field", problem.ErrorFor("other"));
        var kept = (await node.Http.Get($"/v1/programs/{program}/webhooks")).Body.GetProperty("webhooks");
        Assert.Equal("http://127.0.0.1:9/kept", Assert.Single(kept.EnumerateArray()).GetProperty("url").GetString());
        Assert.False(Assert.Single(kept.EnumerateArray()).TryGetProperty("secret", out _));
        Assert.Equal(HttpStatusCode.NotFound, (await node.Http.Get("/v1/programs/no-such-program/webhooks")).Status);

        var whsec = await node.Http.Send(HttpMethod.Put, $"/v1/programs/{program}/webhooks",
            """{"webhooks":[{"url":"http://127.0.0.1:9/a","secret":"whsec_not*base64!"},{"url":"http://127.0.0.1:9/b","secret":"whsec_AAAAAAAAAAAAAAAAAAAAAA=="}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, whsec.Status);
        Assert.Contains("base64", whsec.Body.ErrorFor("webhooks[0].secret"));
        Assert.Contains("24", whsec.Body.ErrorFor("webhooks[1].secret"));
    }

    [Fact]
    public async Task A_client_resuming_after_the_feed_was_reactivated_gets_the_changes_made_since()
    {
        var program = await NewProgram();
        var feed = node.Services.GetRequiredService<IGrainFactory>().GetGrain<IChangeFeedGrain>(program);
        var before = await Redeem(program, "before", "r-before");
        var lastSeen = (await FeedHolds(feed, before)).Max(i => i.Seq);
        Assert.True(lastSeen < 1L << 53, "ids must stay exact in JavaScript");

        // The feed's activation goes (as when its silo dies or it is collected); the next call starts a new one.
        await feed.AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await feed.Wait(0, 1000, TimeSpan.Zero)).Items.Count > 0)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the feed was not re-activated");
            await Task.Delay(20);
        }
        var after = await Redeem(program, "after", "r-after");
        await FeedHolds(feed, after);

        var events = await ReadFeedUntil(program, lastSeen.ToString(System.Globalization.CultureInfo.InvariantCulture), after);
        Assert.Contains(events, e => e.Change.GetProperty("id").GetString() == after);
        Assert.All(events, e => Assert.True(e.Id > lastSeen, $"id {e.Id} after {lastSeen}"));
    }

    [Fact]
    public async Task An_id_the_feed_never_gave_resumes_from_everything_it_holds()
    {
        // An id from an earlier activation on a silo whose clock ran ahead of this one's.
        var program = await NewProgram();
        var feed = node.Services.GetRequiredService<IGrainFactory>().GetGrain<IChangeFeedGrain>(program);
        var changeId = await Redeem(program, "m7", "r-7");
        await FeedHolds(feed, changeId);
        var ahead = ChangeFeedGrain.FirstSeq(DateTimeOffset.UtcNow.AddDays(1));

        var events = await ReadFeedUntil(program, ahead.ToString(System.Globalization.CultureInfo.InvariantCulture), changeId);
        Assert.Contains(events, e => e.Change.GetProperty("id").GetString() == changeId);
    }

    [Fact]
    public async Task Plan_purchases_and_cancels_reach_the_feed_and_webhooks()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var program = await NewProgram();
        await UseWebhook(program, receiver.Url);
        const string member = "vip";
        var bought = await node.Http.Post($"/v1/programs/{program}/members/{member}/subscription", """{"subscriptionEventId":"s-buy","plan":"plus","action":"purchase","term":"P1M"}""");
        Assert.Equal(HttpStatusCode.OK, bought.Status);
        var cancelled = await node.Http.Post($"/v1/programs/{program}/members/{member}/subscription", """{"subscriptionEventId":"s-cancel","plan":"plus","action":"cancel"}""");
        Assert.Equal(HttpStatusCode.OK, cancelled.Status);
        var (_, ledger) = await node.Http.Get($"/v1/programs/{program}/members/{member}/ledger");
        var ids = ledger.GetProperty("entries").EnumerateArray().Where(e => e.GetProperty("kind").GetString() == "subscription")
            .Select(e => e.GetProperty("seq").GetInt64()).Order().Select(seq => ChangeId(member, ledger, seq)).ToList();
        Assert.Equal(2, ids.Count);

        var events = await ReadFeedUntil(program, "0", ids[1]);
        var purchase = Assert.Single(events, e => e.Change.GetProperty("id").GetString() == ids[0]);
        var cancel = Assert.Single(events, e => e.Change.GetProperty("id").GetString() == ids[1]);
        Assert.Equal(("subscription-changed", "subscription-changed"), (purchase.Type, cancel.Type));
        var expiresAt = bought.Body.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.Equal(("plus", "purchase", "active", expiresAt, true, "s-buy"), Plan(purchase.Change));
        Assert.Equal(("plus", "cancel", "active", expiresAt, false, "s-cancel"), Plan(cancel.Change));

        var delivered = JsonDocument.Parse((await receiver.Accepted(ids[1])).Body).RootElement;
        Assert.Equal(("plus", "cancel", "active", expiresAt, false, "s-cancel"), Plan(delivered));

        static (string?, string?, string?, DateTimeOffset, bool, string?) Plan(JsonElement c) => (
            c.GetProperty("plan").GetString(), c.GetProperty("action").GetString(), c.GetProperty("status").GetString(),
            c.GetProperty("expiresAt").GetDateTimeOffset(), c.GetProperty("autoRenew").GetBoolean(), c.GetProperty("callerId").GetString());
    }

    [Fact]
    public async Task Replay_keeps_the_letters_of_a_url_no_longer_registered()
    {
        await using var gone = await WebhookReceiver.StartAsync();
        await using var kept = await WebhookReceiver.StartAsync();
        gone.RefuseFirst = kept.RefuseFirst = int.MaxValue;
        var program = await NewProgram();
        await UseWebhooks(program, gone.Url, kept.Url);
        // The redemption and the tier change it brings park once for each URL.
        await Redeem(program, "m8", "r-8");
        await DeadLetters(program, 4);

        await UseWebhooks(program, kept.Url);
        kept.RefuseFirst = 0;
        var (status, replay) = await node.Http.Post($"/v1/programs/{program}/webhooks/dead-letters/replay", "{}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal((2, 2, "url-not-registered"), (replay.GetProperty("replayed").GetInt32(), replay.GetProperty("kept").GetInt32(), replay.GetProperty("keptReason").GetString()));
        Assert.Equal([gone.Url], replay.GetProperty("keptUrls").EnumerateArray().Select(u => u.GetString()));
        var letters = (await node.Http.Get($"/v1/programs/{program}/webhooks/dead-letters")).Body.GetProperty("deadLetters").EnumerateArray();
        Assert.Equal([gone.Url, gone.Url], letters.Select(l => l.GetProperty("url").GetString()));
    }

    [Fact]
    public async Task Dead_letters_are_discarded_only_when_an_admin_asks_by_url_or_all()
    {
        await using var first = await WebhookReceiver.StartAsync();
        await using var second = await WebhookReceiver.StartAsync();
        first.RefuseFirst = second.RefuseFirst = int.MaxValue;
        var program = await NewProgram();
        await UseWebhooks(program, first.Url, second.Url);
        await Redeem(program, "m9", "r-9");
        await DeadLetters(program, 4);
        var letters = $"/v1/programs/{program}/webhooks/dead-letters";

        var empty = await node.Http.Send(HttpMethod.Delete, letters + "?url=");
        Assert.Equal(HttpStatusCode.BadRequest, empty.Status);
        Assert.Contains("empty", empty.Body.ErrorFor("url"));

        var one = await node.Http.Send(HttpMethod.Delete, $"{letters}?url={Uri.EscapeDataString(first.Url)}");
        Assert.Equal((HttpStatusCode.OK, 2), (one.Status, one.Body.GetProperty("removed").GetInt32()));
        var left = (await node.Http.Get(letters)).Body.GetProperty("deadLetters").EnumerateArray();
        Assert.Equal([second.Url, second.Url], left.Select(l => l.GetProperty("url").GetString()));

        var all = await node.Http.Send(HttpMethod.Delete, letters);
        Assert.Equal((HttpStatusCode.OK, 2), (all.Status, all.Body.GetProperty("removed").GetInt32()));
        Assert.Empty((await node.Http.Get(letters)).Body.GetProperty("deadLetters").EnumerateArray());
    }

    private async Task UseWebhooks(string program, params string[] urls)
    {
        var list = string.Join(",", urls.Select(u => $$"""{"url":"{{u}}","secret":"{{Secret}}"}"""));
        Assert.Equal(HttpStatusCode.OK, (await node.Http.Send(HttpMethod.Put, $"/v1/programs/{program}/webhooks", $$"""{"webhooks":[{{list}}]}""")).Status);
    }

    /// <summary>Waits until the program has parked <paramref name="count"/> dead letters.</summary>
    private async Task DeadLetters(string program, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await node.Http.Get($"/v1/programs/{program}/webhooks/dead-letters")).Body.GetProperty("deadLetters").GetArrayLength() < count)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{count} dead letters were not parked");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits until the feed holds a change (changes are published after the write's answer); returns what it holds.</summary>
    private static async Task<IReadOnlyList<FeedItem>> FeedHolds(IChangeFeedGrain feed, string changeId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var items = (await feed.Wait(0, 1000, TimeSpan.Zero)).Items;
            if (items.Any(i => i.Change.Id == changeId)) return items;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the feed never held {changeId}");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Reads the live feed as a client resuming after <paramref name="lastEventId"/> does, until the change
    /// <paramref name="changeId"/> or a keep-alive (the feed had nothing more for it) comes.
    /// </summary>
    private async Task<List<(long Id, string Type, JsonElement Change)>> ReadFeedUntil(string program, string lastEventId, string changeId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/programs/{program}/changes");
        request.Headers.Add("Last-Event-ID", lastEventId);
        using var response = await node.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var events = new List<(long, string, JsonElement)>();
        long id = 0;
        var type = "";
        while (await reader.ReadLineAsync(timeout.Token) is { } line && !line.StartsWith(": keep-alive", StringComparison.Ordinal))
        {
            if (line.StartsWith("id: ", StringComparison.Ordinal)) id = long.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture);
            else if (line.StartsWith("event: ", StringComparison.Ordinal)) type = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                var change = JsonDocument.Parse(line[6..]).RootElement.Clone();
                events.Add((id, type, change));
                if (change.GetProperty("id").GetString() == changeId) break;
            }
        }
        return events;
    }

    [Theory]
    [InlineData("http://10.0.0.5/hook")]
    [InlineData("http://192.168.1.1/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://[fd00::1]/hook")]
    public async Task An_allow_list_lets_in_only_its_networks(string url)
    {
        var program = await NewProgram();
        await UseWebhook(program, "http://127.0.0.2:9/allowed");
        var (status, problem) = await node.Http.Send(HttpMethod.Put, $"/v1/programs/{program}/webhooks", $$"""{"webhooks":[{"url":"{{url}}","secret":"{{Secret}}"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("Membership:Webhooks:AllowedNetworks", problem.ErrorFor("webhooks[0].url"));
    }
}
