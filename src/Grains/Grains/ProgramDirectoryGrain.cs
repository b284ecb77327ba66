using Orleans.Membership.Abstractions;
using Orleans.Runtime;

namespace Orleans.Membership.Grains;

/// <summary>The directory's state: each program's id, version and name (plain properties, for any grain storage's serializer).</summary>
[GenerateSerializer, Alias("program-directory-state")]
public sealed class ProgramDirectoryState
{
    [Id(0)] public List<ProgramDirectoryEntry> Programs { get; set; } = [];
}

[GenerateSerializer, Alias("program-directory-entry")]
public sealed class ProgramDirectoryEntry
{
    [Id(0)] public string Id { get; set; } = "";
    [Id(1)] public int Version { get; set; }
    [Id(2)] public string Name { get; set; } = "";
}

/// <summary>
/// Lists the programs: each program grain records itself here when it changes and when it activates, so
/// programs made before the directory existed appear once they are next used.
/// </summary>
public sealed class ProgramDirectoryGrain([PersistentState("directory", StorageNames.Programs)] IPersistentState<ProgramDirectoryState> state) : Grain, IProgramDirectoryGrain
{
    async Task IProgramDirectoryGrain.Record(ProgramListing program)
    {
        var entry = state.State.Programs.Find(p => p.Id == program.Id);
        if (entry is not null && entry.Version >= program.Version && entry.Name == program.Name) return;
        if (entry is null) state.State.Programs.Add(entry = new ProgramDirectoryEntry { Id = program.Id });
        entry.Version = Math.Max(entry.Version, program.Version);
        entry.Name = program.Name;
        await state.WriteStateAsync();
    }

    Task<IReadOnlyList<ProgramListing>> IProgramDirectoryGrain.List()
        => Task.FromResult<IReadOnlyList<ProgramListing>>(state.State.Programs
            .OrderBy(p => p.Id, StringComparer.Ordinal)
            .Select(p => new ProgramListing(p.Id, p.Version, p.Name))
            .ToList());
}
