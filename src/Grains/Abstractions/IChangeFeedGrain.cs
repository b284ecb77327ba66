using Orleans.Concurrency;
using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Abstractions;

/// <summary>
/// One program's member changes, keyed by the program id: it consumes the program's member-changes
/// stream, keeps the latest changes for the live feed, and delivers them to the program's webhooks.
/// </summary>
[Alias("change-feed")]
public interface IChangeFeedGrain : IGrainWithStringKey
{
    /// <summary>The changes after <paramref name="afterSeq"/>, waiting up to <paramref name="wait"/> for one to come.</summary>
    [AlwaysInterleave, Alias("wait")] Task<ChangeFeedPage> Wait(long afterSeq, int max, TimeSpan wait);

    [Alias("set-webhooks")] Task SetWebhooks(WebhookTarget[] targets);

    [AlwaysInterleave, ReadOnly, Alias("get-webhooks")] Task<WebhookTarget[]> GetWebhooks();

    [AlwaysInterleave, ReadOnly, Alias("dead-letters")] Task<DeadLetter[]> GetDeadLetters();

    /// <summary>
    /// Delivers again (each from its first attempt) the dead letters of URLs still registered; the others
    /// stay parked until their URL is registered again or an admin discards them.
    /// </summary>
    [Alias("replay-letters")] Task<DeadLetterReplay> ReplayDeadLetters();

    /// <summary>Removes the dead letters (of <paramref name="url"/> only, when given); returns how many.</summary>
    [Alias("discard-letters")] Task<int> DiscardDeadLetters(string? url);

    /// <summary>An erased member's changes leave the feed and the dead letters, and their retries stop.</summary>
    [Alias("forget")] Task Forget(string memberId);
}

/// <summary>A change with its place in the program's feed (the SSE event id).</summary>
[GenerateSerializer, Immutable, Alias("feed-item")]
public sealed record FeedItem([property: Id(0)] long Seq, [property: Id(1)] MemberChange Change);

[GenerateSerializer, Immutable, Alias("feed-page")]
public sealed record ChangeFeedPage([property: Id(0)] IReadOnlyList<FeedItem> Items, [property: Id(1)] long LastSeq);

/// <summary>Where a program's changes are POSTed, and the secret that signs them.</summary>
[GenerateSerializer, Immutable, Alias("webhook-target")]
public sealed record WebhookTarget([property: Id(0)] string Url, [property: Id(1)] string Secret);

/// <summary>What a replay did: letters sent again, and letters kept because their URL is no longer registered.</summary>
[GenerateSerializer, Immutable, Alias("dead-letter-replay")]
public sealed record DeadLetterReplay([property: Id(0)] int Replayed, [property: Id(1)] int Kept, [property: Id(2)] IReadOnlyList<string> KeptUrls);

/// <summary>A change a webhook did not take after every attempt.</summary>
[GenerateSerializer, Immutable, Alias("dead-letter")]
public sealed record DeadLetter(
    [property: Id(0)] string Url,
    [property: Id(1)] MemberChange Change,
    [property: Id(2)] int Attempts,
    [property: Id(3)] string LastError,
    [property: Id(4)] DateTimeOffset FailedAt);
