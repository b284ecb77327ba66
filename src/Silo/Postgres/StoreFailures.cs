using Npgsql;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Api.Operations;
using Orleans.Storage;

namespace Orleans.Membership.Silo.Postgres;

/// <summary>
/// Grain state storage that reports the database being away as <see cref="StoreUnavailableException"/>
/// (the API's 503), whether a grain reads its state as it activates, writes it, or clears it on erasure.
/// Other errors (an ETag conflict) pass through unchanged. At most <see cref="InFlight"/> operations run at
/// once; the rest wait in the process, as the ledger's reads do (docs/postgres.md, pool sizing).
/// </summary>
internal sealed class StoreFailures(IGrainStorage store, string name) : IGrainStorage
{
    /// <summary>Storage operations in flight at once, per provider.</summary>
    public const int InFlight = 32;

    private readonly SemaphoreSlim _gate = new(InFlight, InFlight);
    // The provider's connections come from Npgsql's pools by connection string: those are the ones to empty.
    private readonly Polly.ResiliencePipeline _closed = ClosedSessions.RetryOnce(NpgsqlConnection.ClearAllPools);

    /// <summary>The name the wrapped provider is registered under.</summary>
    public static string Inner(string name) => name + ".database";

    // Only a read runs again: a write the server took before it closed the session would fail its ETag the second time.
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        => Translate(() => _closed.ExecuteAsync(async _ => await store.ReadStateAsync(stateName, grainId, grainState)).AsTask(), "read");

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        => Translate(() => store.WriteStateAsync(stateName, grainId, grainState), "write");

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        => Translate(() => store.ClearStateAsync(stateName, grainId, grainState), "clear");

    private async Task Translate(Func<Task> operation, string what)
    {
        await _gate.WaitAsync();
        try
        {
            await operation();
        }
        catch (Exception e) when (e is not InconsistentStateException && StoreUnavailableException.IsStoreFailure(e))
        {
            throw new StoreUnavailableException($"the {name} storage cannot {what} now: {e.Message}");
        }
        finally
        {
            _gate.Release();
        }
    }
}
