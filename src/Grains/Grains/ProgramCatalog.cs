using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Grains;

/// <summary>
/// Compiled programs cached in this process by id and version. A cached program is re-checked against
/// its program grain at most once per <see cref="RefreshInterval"/>, so a change made through another
/// node is seen within that interval; a change made through this node is seen at once. When the check
/// itself fails (the silo that held the program grain just died, storage is away) a cached program keeps
/// being served and the check is tried again an interval later: a program version seen a little late is
/// better than failing every request of its members.
/// </summary>
public sealed class ProgramCatalog(Func<string, Task<ProgramDefinition?>> load, TimeProvider clock, ILogger logger)
{
    public ProgramCatalog(IGrainFactory grains, TimeProvider clock, ILogger<ProgramCatalog> logger)
        : this(programId => grains.GetGrain<IProgramGrain>(programId).Get(), clock, logger)
    {
    }

    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);

    private sealed record Entry(MembershipProgram? Program, long CheckedAt);
    private readonly ConcurrentDictionary<string, Entry> _cache = new(StringComparer.Ordinal);

    public ValueTask<MembershipProgram?> GetAsync(string programId)
    {
        if (_cache.TryGetValue(programId, out var entry) && clock.GetElapsedTime(entry.CheckedAt) < RefreshInterval)
        {
            return ValueTask.FromResult(entry.Program);
        }
        return new ValueTask<MembershipProgram?>(RefreshAsync(programId, entry?.Program));
    }

    private async Task<MembershipProgram?> RefreshAsync(string programId, MembershipProgram? cached)
    {
        ProgramDefinition? definition;
        try
        {
            definition = await load(programId);
        }
        catch (Exception e) when (cached is not null && e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Program {ProgramId} could not be re-checked; serving the cached v{Version} and retrying in {Interval}",
                programId, cached.Version, RefreshInterval);
            _cache[programId] = new Entry(cached, clock.GetTimestamp());
            return cached;
        }
        MembershipProgram? program = null;
        if (definition is not null)
        {
            program = cached is not null && cached.Version == definition.Version ? cached : Compile(definition);
        }
        _cache[programId] = new Entry(program, clock.GetTimestamp());
        return program;
    }

    /// <summary>Makes a definition this node just stored visible at once.</summary>
    public MembershipProgram Publish(ProgramDefinition definition)
    {
        var program = Compile(definition);
        _cache[definition.ProgramId] = new Entry(program, clock.GetTimestamp());
        return program;
    }

    private static MembershipProgram Compile(ProgramDefinition definition)
    {
        var result = ProgramCompiler.Compile(definition.ProgramId, definition.Version, definition.Json);
        return result.Program ?? throw new InvalidOperationException(
            $"stored program '{definition.ProgramId}' v{definition.Version} no longer compiles: {string.Join("; ", result.Errors.Select(e => $"{e.Path} {e.Message}"))}");
    }
}
