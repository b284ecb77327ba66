using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Tests.Support;

/// <summary>The shipped programs, compiled once from the files the node loads.</summary>
public static class TestPrograms
{
    private static readonly Lazy<MembershipProgram> s_default = new(() => Load("default"));
    private static readonly Lazy<MembershipProgram> s_coffee = new(() => Load("coffee-club"));

    public static MembershipProgram Default => s_default.Value;
    public static MembershipProgram Coffee => s_coffee.Value;

    public static string Json(string id) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "programs", id + ".json"));

    public static MembershipProgram Load(string id)
    {
        var result = ProgramCompiler.Compile(id, 1, Json(id));
        return result.Program ?? throw new InvalidOperationException(string.Join("; ", result.Errors));
    }
}

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;
    public DateTimeOffset Now { get => _now; set => _now = value; }
    public override DateTimeOffset GetUtcNow() => _now;
    public void Advance(TimeSpan by) => _now += by;
}
