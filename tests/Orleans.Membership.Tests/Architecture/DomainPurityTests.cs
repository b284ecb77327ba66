using System.Reflection;
using System.Reflection.Emit;
using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Tests.Architecture;

/// <summary>
/// The domain (namespace Orleans.Membership.Domain) is pure: no Orleans runtime, no I/O, no clock, no
/// native memory or collector tricks. Checked on the compiled code: every member any domain method
/// calls, creates or reads, found by reading its IL.
/// </summary>
public sealed class DomainPurityTests
{
    private static readonly Assembly Grains = typeof(MemberState).Assembly;

    private static readonly string[] ForbiddenNamespaces =
    [
        "Orleans.Runtime", "Orleans.Hosting", "Orleans.Streams", "Orleans.Storage", "Microsoft.Extensions",
        "System.IO", "System.Net", "System.Threading", "System.Runtime.InteropServices", "Npgsql",
    ];

    private static readonly string[] ForbiddenMembers =
    [
        "System.DateTime.get_Now", "System.DateTime.get_UtcNow", "System.DateTime.get_Today",
        "System.DateTimeOffset.get_Now", "System.DateTimeOffset.get_UtcNow", "System.TimeProvider.get_System",
        "System.Environment.", "System.GC.", "System.Random.", "System.Guid.NewGuid",
    ];

    /// <summary>What the domain may use from the namespaces above: attributes and types that only describe data.</summary>
    private static readonly string[] Allowed = ["System.Threading.Tasks.Task", "System.Runtime.InteropServices.MemoryMarshal"];

    public static IEnumerable<Type> DomainTypes() => Grains.GetTypes().Where(t => t.Namespace?.StartsWith("Orleans.Membership.Domain", StringComparison.Ordinal) == true);

    [Fact]
    public void The_domain_calls_nothing_impure()
    {
        var problems = new List<string>();
        foreach (var type in DomainTypes())
        {
            foreach (var method in Methods(type))
            {
                foreach (var used in UsedMembers(method))
                {
                    if (used.DeclaringType is not { } owner) continue;
                    var name = $"{owner.FullName}.{used.Name}";
                    var ns = owner.Namespace ?? "";
                    if (Allowed.Any(a => name.StartsWith(a, StringComparison.Ordinal))) continue;
                    if (ForbiddenNamespaces.Any(f => ns == f || ns.StartsWith(f + ".", StringComparison.Ordinal)) || ForbiddenMembers.Any(f => name.StartsWith(f, StringComparison.Ordinal)))
                    {
                        problems.Add($"{type.FullName}.{method.Name} uses {name}");
                    }
                }
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems.Distinct()));
    }

    [Fact]
    public void The_domain_has_no_finalizers_pointers_or_grains()
    {
        var problems = new List<string>();
        foreach (var type in DomainTypes())
        {
            if (type.GetMethod("Finalize", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.DeclaredOnly) is not null) problems.Add($"{type.FullName} has a finalizer");
            if (typeof(IGrain).IsAssignableFrom(type) || typeof(Grain).IsAssignableFrom(type)) problems.Add($"{type.FullName} is a grain");
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.FieldType.IsPointer || field.FieldType == typeof(IntPtr) || field.FieldType == typeof(UIntPtr)) problems.Add($"{type.FullName}.{field.Name} is a pointer");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void The_check_finds_impure_code_when_there_is_some()
    {
        // The IL reader must see calls at all: this test's own method reads the clock.
        var clockReader = typeof(DomainPurityTests).GetMethod(nameof(ReadsTheClock), BindingFlags.NonPublic | BindingFlags.Static)!;
        Assert.Contains(UsedMembers(clockReader), m => m.DeclaringType == typeof(DateTimeOffset) && m.Name == "get_UtcNow");
    }

    private static DateTimeOffset ReadsTheClock() => DateTimeOffset.UtcNow;

    private static IEnumerable<MethodBase> Methods(Type type)
    {
        const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        return type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)).Where(m => m.GetMethodBody() is not null);
    }

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>Every method, constructor and field a method's IL names.</summary>
    private static IEnumerable<MemberInfo> UsedMembers(MethodBase method)
    {
        var il = method.GetMethodBody()!.GetILAsByteArray()!;
        var typeArgs = method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var i = 0; i < il.Length;)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            var op = OpCodesByValue[value];
            i += op.Size;
            if (op.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok)
            {
                var token = BitConverter.ToInt32(il, i);
                MemberInfo? member = null;
                try
                {
                    member = method.Module.ResolveMember(token, typeArgs, methodArgs);
                }
                catch (ArgumentException)
                {
                }
                if (member is not null) yield return member;
            }
            i += OperandSize(op, il, i);
        }
    }

    private static int OperandSize(OpCode op, byte[] il, int at) => op.OperandType switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at),
        _ => 4,
    };
}
