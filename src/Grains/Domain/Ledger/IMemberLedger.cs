namespace Orleans.Membership.Domain.Ledger;

/// <summary>
/// Where members' ledger entries are kept. Appends are durable when the task completes: a member grain
/// acknowledges a caller only after that. Implementations: in memory (embedded mode) and PostgreSQL
/// (group commit across all grains of a silo).
/// </summary>
public interface IMemberLedger
{
    /// <summary>Appends entries (seq already assigned, contiguous, ascending) for one member.</summary>
    /// <exception cref="LedgerUnavailableException">the store cannot take writes now; nothing was written.</exception>
    Task AppendAsync(string memberKey, IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken = default);

    /// <summary>Entries with seq greater than <paramref name="afterSeq"/>, ascending (for activation replay).</summary>
    Task<IReadOnlyList<LedgerEntry>> ReadAfterAsync(string memberKey, long afterSeq, CancellationToken cancellationToken = default);

    /// <summary>At most <paramref name="limit"/> entries with seq below <paramref name="beforeSeq"/> (null: from the newest), newest first.</summary>
    Task<IReadOnlyList<LedgerEntry>> ReadPageAsync(string memberKey, long? beforeSeq, int limit, CancellationToken cancellationToken = default);

    /// <summary>The entries that carry any of <paramref name="callerIds"/> (a member uses each id once), in any order.</summary>
    Task<IReadOnlyList<LedgerEntry>> FindAsync(string memberKey, IReadOnlyCollection<string> callerIds, CancellationToken cancellationToken = default);

    /// <summary>The earn and clawback entries of any of <paramref name="orderIds"/>, ascending by seq (a refund of an order the member no longer holds).</summary>
    Task<IReadOnlyList<LedgerEntry>> FindOrdersAsync(string memberKey, IReadOnlyCollection<string> orderIds, CancellationToken cancellationToken = default);

    /// <summary>Removes every entry of the member (erasure).</summary>
    Task EraseAsync(string memberKey, CancellationToken cancellationToken = default);
}

/// <summary>The ledger store cannot be reached or refused the write; nothing of the call was applied.</summary>
[GenerateSerializer, Alias("ledger-unavailable")]
public sealed class LedgerUnavailableException : Exception
{
    // No inner exception: this one crosses silos, and a database driver's exceptions have no Orleans codec
    // (a node answered 500 for a member on a silo cut off from the database). The message carries the cause's.
    public LedgerUnavailableException(string message) : base(message) { }
}
