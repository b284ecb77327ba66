using System.Reflection;
using System.Runtime.CompilerServices;

namespace Orleans.Membership.GcCensus;

/// <summary>
/// Counts, by type, the objects reachable from a member's state after a write that it did not reach
/// before (the program's objects, shared by every member, left out): what each write adds for the
/// collector to trace and, while the member lives, to copy.
/// </summary>
internal sealed class Census
{
    // The runtime's own object size (internal: when a runtime lacks it, the census counts objects only).
    private static readonly MethodInfo? s_rawSize = typeof(RuntimeHelpers).GetMethod("GetRawObjectDataSize", BindingFlags.NonPublic | BindingFlags.Static);
    private static readonly Dictionary<Type, FieldInfo[]> s_fields = [];

    private readonly HashSet<object> _shared = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, (long Count, long Bytes)> _byType = [];

    public static bool SizesKnown => s_rawSize is not null;

    public Census(object program) => Walk(program, _shared, _ => { });

    public long Writes { get; private set; }
    public long Objects => _byType.Values.Sum(v => v.Count);
    public long Bytes => _byType.Values.Sum(v => v.Bytes);

    public IEnumerable<(string Type, long Count, long Bytes)> Rows()
        => _byType.OrderByDescending(kv => kv.Value.Bytes).ThenByDescending(kv => kv.Value.Count).Select(kv => (kv.Key, kv.Value.Count, kv.Value.Bytes));

    private HashSet<object> _before = new(ReferenceEqualityComparer.Instance);

    /// <summary>Remembers what <paramref name="state"/> reaches before a write.</summary>
    public void Before(object state)
    {
        _before = new HashSet<object>(ReferenceEqualityComparer.Instance);
        Walk(state, _before, _ => { });
    }

    /// <summary>Counts what <paramref name="state"/> reaches after the write that it did not before.</summary>
    public void After(object state)
    {
        Writes++;
        // The state and its containers are the same objects, changed in place: walk all of it again.
        Walk(state, new HashSet<object>(ReferenceEqualityComparer.Instance), o =>
        {
            if (_before.Contains(o)) return;
            var name = Name(o.GetType());
            var (count, bytes) = _byType.GetValueOrDefault(name);
            _byType[name] = (count + 1, bytes + SizeOf(o));
        });
    }

    private void Walk(object root, HashSet<object> seen, Action<object> visit)
    {
        var stack = new Stack<object>();
        stack.Push(root);
        while (stack.TryPop(out var o))
        {
            if (_shared.Contains(o) || !seen.Add(o)) continue;
            visit(o);
            var type = o.GetType();
            if (type == typeof(string)) continue;
            if (o is Array array)
            {
                var element = type.GetElementType()!;
                if (element.IsPrimitive || element.IsEnum || element.IsPointer) continue;
                foreach (var item in array) PushFieldsOf(item, stack);
                continue;
            }
            foreach (var field in FieldsOf(type)) PushFieldsOf(field.GetValue(o), stack);
        }
    }

    /// <summary>A reference is pushed; a struct's own fields are followed (it lives inside its holder).</summary>
    private static void PushFieldsOf(object? value, Stack<object> stack)
    {
        if (value is null or Type or MemberInfo or Delegate or Pointer) return;
        var type = value.GetType();
        if (!type.IsValueType)
        {
            stack.Push(value);
            return;
        }
        if (type.IsPrimitive || type.IsEnum) return;
        foreach (var field in FieldsOf(type)) PushFieldsOf(field.GetValue(value), stack);
    }

    private static FieldInfo[] FieldsOf(Type type)
    {
        if (s_fields.TryGetValue(type, out var fields)) return fields;
        var all = new List<FieldInfo>();
        for (var t = type; t is not null; t = t.BaseType)
        {
            all.AddRange(t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                .Where(f => !f.FieldType.IsPrimitive && !f.FieldType.IsEnum && !f.FieldType.IsPointer));
        }
        return s_fields[type] = [.. all];
    }

    /// <summary>Bytes the object takes on the heap: its data plus the header and method-table pointer.</summary>
    private static long SizeOf(object o) => s_rawSize is null ? 0 : (long)(nuint)s_rawSize.Invoke(null, [o])! + 2 * IntPtr.Size;

    private static string Name(Type type)
    {
        if (!type.IsGenericType) return type.Name;
        var tick = type.Name.IndexOf('`');
        return $"{(tick < 0 ? type.Name : type.Name[..tick])}<{string.Join(", ", type.GetGenericArguments().Select(Name))}>";
    }
}
