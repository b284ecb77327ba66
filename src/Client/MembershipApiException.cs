namespace Orleans.Membership.Client;

/// <summary>
/// An answer other than success, from its problem details: <see cref="Reason"/> tells 409s apart (quota,
/// tier, window, balance, id-reused, ...); <see cref="Errors"/> maps a 400's field paths to messages;
/// <see cref="RetryAfter"/> comes with 429 and 503, after which the same request (same ids) is safe to retry.
/// </summary>
public sealed class MembershipApiException(int status, string? title, string? detail, string? reason, IReadOnlyDictionary<string, string[]> errors, TimeSpan? retryAfter)
    : Exception($"{status} {title}: {detail}")
{
    public int Status { get; } = status;
    public string? Title { get; } = title;
    public string? Detail { get; } = detail;
    public string? Reason { get; } = reason;
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
