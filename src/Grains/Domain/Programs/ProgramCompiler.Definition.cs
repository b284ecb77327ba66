using System.Text.Json;

namespace Orleans.Membership.Domain.Programs;

public static partial class ProgramCompiler
{
    public static ProgramCompilation Compile(string programId, int version, JsonElement definition)
        => throw new NotImplementedException();
}
