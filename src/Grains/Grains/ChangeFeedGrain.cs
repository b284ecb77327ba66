using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Domain.Members;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace Orleans.Membership.Grains;

/// <summary>What a program's feed keeps in storage: its webhooks and the changes they did not take.</summary>
[GenerateSerializer, Alias("change-feed-state")]
public sealed class ChangeFeedState
{
    [Id(0)] public List<WebhookTarget> Webhooks { get; set; } = [];
    [Id(1)] public List<DeadLetter> DeadLetters { get; set; } = [];
}

/// <summary>
/// Consumes one program's member-changes stream. Keeps the latest <see cref="FeedCapacity"/> changes in
/// memory for the live feed (numbered upwards across activations, see <see cref="FirstSeq"/>), and
/// delivers each change to each webhook with retries and exponential backoff; a change a webhook never
/// takes is parked as a dead letter (stored) until an admin replays or discards it.
/// </summary>
[ImplicitStreamSubscription(MemberChangeStreams.Namespace)]
public sealed class ChangeFeedGrain(
    [PersistentState("feed", StorageNames.Programs)] IPersistentState<ChangeFeedState> state,
    WebhookSender sender,
    IOptions<WebhookOptions> options,
    TimeProvider clock,
    MembershipMetrics metrics,
    ILogger<ChangeFeedGrain> logger)
    : Grain, IChangeFeedGrain, IStreamSubscriptionObserver, IAsyncBatchObserver<MemberChange>
{
    public const int FeedCapacity = 10_000;
    public const int DeadLetterCapacity = 10_000;

    private readonly Queue<FeedItem> _feed = new();
    private readonly long _firstSeq = FirstSeq(clock.GetUtcNow());
    private long _lastSeq;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SemaphoreSlim? _deliveries;
    private readonly SemaphoreSlim _storage = new(1, 1);
    private int _inFlight;
    /// <summary>When members were erased, while deliveries begun before that may still be retrying.</summary>
    private readonly Dictionary<string, DateTimeOffset> _erasedAt = new(StringComparer.Ordinal);

    private WebhookOptions Options => options.Value;

    /// <summary>
    /// Where an activation starts numbering: its start in microseconds since the Unix epoch. An earlier
    /// activation gave far fewer ids than the microseconds it lived, so its ids stay below this one's
    /// without a write per change; the figure stays below 2^53, so JavaScript clients read ids exactly.
    /// </summary>
    public static long FirstSeq(DateTimeOffset activatedAt) => (activatedAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _lastSeq = _firstSeq;
        return base.OnActivateAsync(cancellationToken);
    }

    async Task IStreamSubscriptionObserver.OnSubscribed(IStreamSubscriptionHandleFactory handleFactory)
        => await handleFactory.Create<MemberChange>().ResumeAsync(this);

    Task IAsyncBatchObserver<MemberChange>.OnNextAsync(IList<SequentialItem<MemberChange>> items)
    {
        foreach (var item in items)
        {
            var fed = new FeedItem(++_lastSeq, item.Item);
            _feed.Enqueue(fed);
            if (_feed.Count > FeedCapacity) _feed.Dequeue();
            foreach (var hook in state.State.Webhooks) Deliver(hook, item.Item);
        }
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
        return Task.CompletedTask;
    }

    Task IAsyncBatchObserver<MemberChange>.OnErrorAsync(Exception ex)
    {
        logger.LogWarning(ex, "member-changes stream of {ProgramId} reported an error", this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    async Task<ChangeFeedPage> IChangeFeedGrain.Wait(long afterSeq, int max, TimeSpan wait)
    {
        // Ids below this activation's came from earlier ones, and so did an id it has not reached (a silo
        // whose clock ran ahead): either way the client gets everything the feed holds.
        if (afterSeq < _firstSeq || afterSeq > _lastSeq) afterSeq = _firstSeq;
        if (_lastSeq <= afterSeq && wait > TimeSpan.Zero)
        {
            await Task.WhenAny(_changed.Task, Task.Delay(wait, clock));
        }
        var items = _feed.Where(f => f.Seq > afterSeq).Take(max).ToList();
        return new ChangeFeedPage(items, _lastSeq);
    }

    async Task IChangeFeedGrain.SetWebhooks(WebhookTarget[] targets)
    {
        state.State.Webhooks = [.. targets];
        await Save();
    }

    Task<WebhookTarget[]> IChangeFeedGrain.GetWebhooks() => Task.FromResult(state.State.Webhooks.ToArray());

    Task<DeadLetter[]> IChangeFeedGrain.GetDeadLetters() => Task.FromResult(state.State.DeadLetters.ToArray());

    async Task<DeadLetterReplay> IChangeFeedGrain.ReplayDeadLetters()
    {
        // The URL's current secret signs the replay; a URL no longer registered keeps its letters (nothing is lost).
        var hooks = state.State.Webhooks.ToDictionary(h => h.Url, StringComparer.Ordinal);
        var replayed = state.State.DeadLetters.Where(l => hooks.ContainsKey(l.Url)).ToList();
        var kept = state.State.DeadLetters.Count - replayed.Count;
        var keptUrls = state.State.DeadLetters.Where(l => !hooks.ContainsKey(l.Url)).Select(l => l.Url).Distinct(StringComparer.Ordinal).ToList();
        if (replayed.Count > 0)
        {
            state.State.DeadLetters.RemoveAll(l => hooks.ContainsKey(l.Url));
            await Save();
        }
        foreach (var letter in replayed) Deliver(hooks[letter.Url], letter.Change);
        return new DeadLetterReplay(replayed.Count, kept, keptUrls);
    }

    async Task<int> IChangeFeedGrain.DiscardDeadLetters(string? url)
    {
        var removed = state.State.DeadLetters.RemoveAll(l => url is null || l.Url == url);
        if (removed > 0) await Save();
        return removed;
    }

    async Task IChangeFeedGrain.Forget(string memberId)
    {
        if (_inFlight > 0) _erasedAt[memberId] = clock.GetUtcNow();
        if (_feed.Any(f => f.Change.MemberId == memberId))
        {
            var kept = _feed.Where(f => f.Change.MemberId != memberId).ToList();
            _feed.Clear();
            foreach (var item in kept) _feed.Enqueue(item);
        }
        if (state.State.DeadLetters.RemoveAll(l => l.Change.MemberId == memberId) > 0) await Save();
    }

    private bool ErasedSince(MemberChange change, DateTimeOffset since)
        => _erasedAt.TryGetValue(change.MemberId, out var erasedAt) && erasedAt >= since;

    /// <summary>Starts one delivery with its retries; runs on this activation, interleaving with calls.</summary>
    private void Deliver(WebhookTarget hook, MemberChange change)
    {
        _deliveries ??= new SemaphoreSlim(Options.MaxConcurrent, Options.MaxConcurrent);
        // Retries can outlast the idle-collection age: stay active while deliveries are pending.
        if (_inFlight++ == 0) DelayDeactivation(Options.MaxDelay * Options.MaxAttempts);
        _ = DeliverWithRetries(hook, change);
    }

    private async Task DeliverWithRetries(WebhookTarget hook, MemberChange change)
    {
        var started = clock.GetUtcNow();
        try
        {
            var delay = Options.FirstRetryDelay;
            string? error = null;
            for (var attempt = 1; attempt <= Options.MaxAttempts; attempt++)
            {
                if (ErasedSince(change, started)) return;
                await _deliveries!.WaitAsync();
                try
                {
                    error = await sender.SendAsync(hook, change, Options.Timeout);
                }
                finally
                {
                    _deliveries.Release();
                }
                metrics.WebhookDelivery(delivered: error is null);
                if (error is null) return;
                logger.LogInformation("Webhook {Url} refused change {ChangeId} (attempt {Attempt}): {Error}", hook.Url, change.Id, attempt, error);
                if (attempt == Options.MaxAttempts) break;
                await Task.Delay(delay, clock);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, Options.MaxDelay.Ticks));
            }
            if (ErasedSince(change, started)) return;
            logger.LogWarning("Webhook {Url} did not take change {ChangeId} after {Attempts} attempts: parked as a dead letter", hook.Url, change.Id, Options.MaxAttempts);
            metrics.DeadLetter();
            state.State.DeadLetters.Add(new DeadLetter(hook.Url, change, Options.MaxAttempts, error ?? "", clock.GetUtcNow()));
            if (state.State.DeadLetters.Count > DeadLetterCapacity) state.State.DeadLetters.RemoveAt(0);
            await Save();
        }
        catch (Exception e)
        {
            logger.LogError(e, "Delivery of change {ChangeId} to {Url} failed", change.Id, hook.Url);
        }
        finally
        {
            if (--_inFlight == 0) _erasedAt.Clear();
        }
    }

    private async Task Save()
    {
        // Deliveries interleave: one storage write at a time keeps the ETag in order.
        await _storage.WaitAsync();
        try
        {
            await state.WriteStateAsync();
        }
        finally
        {
            _storage.Release();
        }
    }
}
