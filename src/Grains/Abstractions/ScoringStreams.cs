namespace Orleans.Membership.Abstractions;

/// <summary>
/// The inbound stream of scoring events: namespace <see cref="Namespace"/>, one stream per member, keyed
/// like the member grain (<c>"{programId}/{memberId}"</c>). Every member grain is implicitly subscribed.
/// </summary>
public static class ScoringStreams
{
    public const string Namespace = "scoring-events";

    /// <summary>The stream provider's name, in the silo and in producers (both namespaces use it).</summary>
    public const string Provider = "membership";

    public static StreamId For(string programId, string memberId) => StreamId.Create(Namespace, MemberKeys.Of(programId, memberId));
}

/// <summary>
/// The outbound stream of member changes: namespace <see cref="Namespace"/>, one stream per program,
/// keyed by the program id; the program's change feed grain consumes it (webhooks, the live feed).
/// </summary>
public static class MemberChangeStreams
{
    public const string Namespace = "member-changes";

    public static StreamId For(string programId) => StreamId.Create(Namespace, programId);
}
