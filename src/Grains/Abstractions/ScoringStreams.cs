namespace Orleans.Membership.Abstractions;

/// <summary>
/// The inbound stream of scoring events: namespace <see cref="Namespace"/>, one stream per member, keyed
/// like the member grain (<c>"{programId}/{memberId}"</c>). Every member grain is implicitly subscribed.
/// </summary>
public static class ScoringStreams
{
    public const string Namespace = "scoring-events";

    /// <summary>The stream provider's name, in the silo and in producers.</summary>
    public const string Provider = "scoring";

    public static StreamId For(string programId, string memberId) => StreamId.Create(Namespace, MemberKeys.Of(programId, memberId));
}
