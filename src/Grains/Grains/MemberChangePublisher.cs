using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Domain.Members;
using Orleans.Streams;

namespace Orleans.Membership.Grains;

/// <summary>
/// Puts members' changes on their program's member-changes stream. One per silo, with one stream handle
/// per program: a handle per member activation kept a stream directory and a producer in each of them.
/// </summary>
public sealed class MemberChangePublisher(IServiceProvider services)
{
    private readonly ConcurrentDictionary<string, IAsyncStream<MemberChange>> _streams = new(StringComparer.Ordinal);

    /// <summary>Publishes <paramref name="changes"/>; false when no stream provider is configured.</summary>
    public async Task<bool> Publish(string programId, IList<MemberChange> changes)
    {
        if (!_streams.TryGetValue(programId, out var stream))
        {
            if (services.GetKeyedService<IStreamProvider>(ScoringStreams.Provider) is not { } provider) return false;
            stream = _streams.GetOrAdd(programId, id => provider.GetStream<MemberChange>(MemberChangeStreams.For(id)));
        }
        await stream.OnNextBatchAsync(changes);
        return true;
    }
}
