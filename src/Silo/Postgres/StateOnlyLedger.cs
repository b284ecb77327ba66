using Orleans.Membership.Domain.Ledger;

namespace Orleans.Membership.Silo.Postgres;

/// <summary>
/// The ledger of the <c>grain-state</c> benchmark mode: a plain Orleans grain keeps no history, its
/// whole state is what <c>WriteStateAsync</c> stores. Appends are accepted and forgotten; reads find nothing.
/// </summary>
internal sealed class StateOnlyLedger : IMemberLedger
{
    public Task AppendAsync(string memberKey, IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken = default)
        => Task.CompletedTask;

    public Task<IReadOnlyList<LedgerEntry>> ReadAfterAsync(string memberKey, long afterSeq, CancellationToken cancellationToken = default)
        => Task.FromResult<IReadOnlyList<LedgerEntry>>([]);

    public Task<IReadOnlyList<LedgerEntry>> ReadPageAsync(string memberKey, long? beforeSeq, int limit, CancellationToken cancellationToken = default)
        => Task.FromResult<IReadOnlyList<LedgerEntry>>([]);

    public Task EraseAsync(string memberKey, CancellationToken cancellationToken = default) => Task.CompletedTask;
}
