namespace Orleans.Membership.Abstractions;

/// <summary>A stored program definition and its version.</summary>
[GenerateSerializer, Immutable, Alias("program-definition")]
public sealed record ProgramDefinition([property: Id(0)] string ProgramId, [property: Id(1)] int Version, [property: Id(2)] string Json);

/// <summary>The outcome of a PUT: the new version, or every problem of the definition.</summary>
[GenerateSerializer, Immutable, Alias("program-update")]
public sealed record ProgramUpdate(
    [property: Id(0)] int? Version,
    [property: Id(1)] IReadOnlyList<ProgramProblem> Problems);

[GenerateSerializer, Immutable, Alias("program-problem")]
public sealed record ProgramProblem([property: Id(0)] string Path, [property: Id(1)] string Message);

/// <summary>The authority for one program's definition, keyed by program id.</summary>
[Alias("program")]
public interface IProgramGrain : IGrainWithStringKey
{
    [Alias("get")] Task<ProgramDefinition?> Get();

    /// <summary>Validates and stores a definition; versions increase by one per accepted change.</summary>
    [Alias("put")] Task<ProgramUpdate> Put(string json);

    /// <summary>Stores the definition only if the program does not exist yet (first start).</summary>
    [Alias("ensure")] Task<ProgramDefinition> Ensure(string json);
}

/// <summary>One program as the list of programs shows it.</summary>
[GenerateSerializer, Immutable, Alias("program-listing")]
public sealed record ProgramListing([property: Id(0)] string Id, [property: Id(1)] int Version, [property: Id(2)] string Name);

/// <summary>The programs that exist, so an operator can list them (one directory, key 0).</summary>
[Alias("program-directory")]
public interface IProgramDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>Records a program as it now is (idempotent).</summary>
    [Alias("record")] Task Record(ProgramListing program);

    [Alias("list")] Task<IReadOnlyList<ProgramListing>> List();
}
