using System.Text.Json;

namespace Orleans.Membership.Domain.Programs;

/// <summary>One problem in a program definition, addressed by its JSON path (<c>tiers[2].threshold</c>).</summary>
public sealed record ProgramError(string Path, string Message);

/// <summary>The outcome of compiling a definition: a program, or every problem found.</summary>
public sealed record ProgramCompilation(MembershipProgram? Program, IReadOnlyList<ProgramError> Errors)
{
    public bool Succeeded => Program is not null;
}

/// <summary>Validates a program definition (JSON, documented in docs/programs.md) into a <see cref="MembershipProgram"/>.</summary>
public static partial class ProgramCompiler
{
    public static ProgramCompilation Compile(string programId, int version, string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            return new ProgramCompilation(null, [new ProgramError("$", $"not valid JSON: {JsonText.Describe(e)}")]);
        }
        using (doc)
        {
            if (JsonText.FirstBroken(doc.RootElement) is { } broken) return new ProgramCompilation(null, [new ProgramError(broken, JsonText.BrokenText)]);
            return Compile(programId, version, doc.RootElement);
        }
    }

    /// <summary>
    /// Two canonical definitions say the same: numbers by value (<c>1e3</c> is <c>1000</c>, <c>0.90</c> is
    /// <c>0.9</c>), properties in any order. A definition re-sent through a JSON library is then no new version.
    /// </summary>
    public static bool SameDefinition(string canonical, string other)
    {
        using var a = JsonDocument.Parse(canonical);
        using var b = JsonDocument.Parse(other);
        return JsonElement.DeepEquals(a.RootElement, b.RootElement);
    }
}
