using Microsoft.Extensions.DependencyInjection;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Domain.Programs;
using Orleans.Runtime;

namespace Orleans.Membership.Grains;

/// <summary>The state of a program grain: the accepted definition and its version (0: none yet).</summary>
[GenerateSerializer, Alias("program-state")]
public sealed class ProgramState
{
    [Id(0)] public int Version { get; set; }
    [Id(1)] public string? Json { get; set; }
}

/// <summary>Keeps one program's definition; every accepted change bumps the version by one.</summary>
public sealed class ProgramGrain([PersistentState("program", StorageNames.Programs)] IPersistentState<ProgramState> state) : Grain, IProgramGrain
{
    private IProgramDirectoryGrain Directory => GrainFactory.GetGrain<IProgramDirectoryGrain>(0);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A program made by a build before the directory existed is listed once it is used again.
        if (Current() is not null && Listing() is { } listing)
        {
            try
            {
                await Directory.Record(listing);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Listing is for operators; the program serves without it, and its next change records it.
            }
        }
    }

    Task<ProgramDefinition?> IProgramGrain.Get() => Task.FromResult(Current());

    async Task<ProgramUpdate> IProgramGrain.Put(string json)
    {
        var id = this.GetPrimaryKeyString();
        var next = state.State.Version + 1;
        var compiled = ProgramCompiler.Compile(id, next, json);
        if (compiled.Program is not { } program)
        {
            return new ProgramUpdate(null, compiled.Errors.Select(e => new ProgramProblem(e.Path, e.Message)).ToArray());
        }
        if (state.State.Json is { } current && ProgramCompiler.SameDefinition(program.DefinitionJson, current))
        {
            await Directory.Record(new ProgramListing(id, state.State.Version, program.Name));
            return new ProgramUpdate(state.State.Version, []);
        }
        state.State.Version = next;
        state.State.Json = program.DefinitionJson;
        await state.WriteStateAsync();
        await Directory.Record(new ProgramListing(id, next, program.Name));
        return new ProgramUpdate(next, []);
    }

    async Task<ProgramDefinition> IProgramGrain.Ensure(string json)
    {
        if (Current() is { } existing) return existing;
        var update = await ((IProgramGrain)this).Put(json);
        if (update.Version is null)
        {
            throw new InvalidOperationException($"the shipped definition of '{this.GetPrimaryKeyString()}' is invalid: {string.Join("; ", update.Problems.Select(p => $"{p.Path} {p.Message}"))}");
        }
        return Current()!;
    }

    /// <summary>The stored program as the directory lists it: its name read from the stored definition, which the compiler accepted.</summary>
    private ProgramListing? Listing()
    {
        using var definition = System.Text.Json.JsonDocument.Parse(state.State.Json!);
        return definition.RootElement.TryGetProperty("name", out var name) && name.ValueKind == System.Text.Json.JsonValueKind.String
            ? new ProgramListing(this.GetPrimaryKeyString(), state.State.Version, name.GetString()!)
            : null;
    }

    private ProgramDefinition? Current()
        => state.State.Json is { } json ? new ProgramDefinition(this.GetPrimaryKeyString(), state.State.Version, json) : null;
}

/// <summary>Names of the grain storage providers the engine uses.</summary>
public static class StorageNames
{
    public const string Programs = "programs";
    public const string Snapshots = "member-snapshots";
}

public static class MemberSnapshotStorage
{
    /// <summary>
    /// Member snapshots are the member's bounded state as it is (private fields included), written with the
    /// Orleans serializer: Orleans' default grain storage serializer is JSON of public setters.
    /// </summary>
    /// <param name="name">the name the snapshots' storage provider is registered under</param>
    public static IServiceCollection AddMemberSnapshotSerializer<TOptions>(this IServiceCollection services, string name = StorageNames.Snapshots)
        where TOptions : class, Orleans.Storage.IStorageProviderSerializerOptions
    {
        services.AddOptions<TOptions>(name)
            .Configure<Orleans.Serialization.Serializer>((o, serializer) => o.GrainStorageSerializer = new Orleans.Storage.OrleansGrainStorageSerializer(serializer));
        return services;
    }
}
