using System.Text.Json;
using System.Text.RegularExpressions;

namespace Orleans.Membership.Domain.Programs;

/// <summary>
/// Reads a JSON program definition element by element, recording every problem with its JSON path
/// instead of stopping at the first. A read that fails records why and returns null, so the caller
/// carries on with the rest of the definition.
/// </summary>
internal sealed partial class DefinitionReader
{
    private readonly List<ProgramError> _errors = [];

    public IReadOnlyList<ProgramError> Errors => _errors;

    public void Error(string path, string message) => _errors.Add(new ProgramError(path, message));

    /// <summary>The path of a property: <c>tiers[0]</c> + <c>code</c> = <c>tiers[0].code</c>.</summary>
    public static string PropertyPath(string parent, string name)
    {
        var segment = PlainName().IsMatch(name) ? name : $"['{name.Replace("'", "\\'")}']";
        return parent.Length == 0 ? segment : segment[0] == '[' ? parent + segment : $"{parent}.{segment}";
    }

    public static string ItemPath(string parent, int index) => $"{parent}[{index}]";

    /// <summary>
    /// The element as an object whose property names are all in <paramref name="allowed"/>;
    /// an unknown or repeated property is an error (it is most likely a typo).
    /// </summary>
    public DefinitionObject? Object(JsonElement element, string path, params string[] allowed)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            Error(path, "must be an object");
            return null;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            var propertyPath = PropertyPath(path, property.Name);
            if (!seen.Add(property.Name))
            {
                Error(propertyPath, "duplicate property");
            }
            else if (!allowed.Contains(property.Name))
            {
                Error(propertyPath, $"unknown property; expected one of: {string.Join(", ", allowed)}");
            }
        }
        return new DefinitionObject(this, element, path);
    }

    /// <summary>Every property of an object whose names are data (counters), each with its path.</summary>
    public IReadOnlyList<(string Name, JsonElement Value, string Path)>? Map(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            Error(path, "must be an object");
            return null;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var entries = new List<(string, JsonElement, string)>();
        foreach (var property in element.EnumerateObject())
        {
            var propertyPath = PropertyPath(path, property.Name);
            if (!seen.Add(property.Name))
            {
                Error(propertyPath, "duplicate property");
                continue;
            }
            entries.Add((property.Name, property.Value, propertyPath));
        }
        return entries;
    }

    public IReadOnlyList<(JsonElement Value, string Path)>? Array(JsonElement element, string path, int minCount)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            Error(path, "must be an array");
            return null;
        }
        var items = element.EnumerateArray().Select((item, i) => (item, ItemPath(path, i))).ToList();
        if (items.Count < minCount)
        {
            Error(path, minCount == 1 ? "must not be empty" : $"must have at least {minCount} items");
        }
        return items;
    }

    public string? String(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.String)
        {
            Error(path, "must be a string");
            return null;
        }
        var value = element.GetString()!;
        if (string.IsNullOrWhiteSpace(value))
        {
            Error(path, "must not be empty");
            return null;
        }
        return value;
    }

    /// <summary>A string matching <paramref name="pattern"/>; <paramref name="rule"/> says what that means to a person.</summary>
    public string? Code(JsonElement element, string path, Regex pattern, string rule)
    {
        var value = String(element, path);
        if (value is not null && !pattern.IsMatch(value))
        {
            Error(path, $"'{value}' {rule}");
            return null;
        }
        return value;
    }

    public long? Integer(JsonElement element, string path, long min, long max)
    {
        if (element.ValueKind != JsonValueKind.Number)
        {
            Error(path, "must be an integer");
            return null;
        }
        if (!element.TryGetDecimal(out var value))
        {
            Error(path, $"must be at most {max}");
            return null;
        }
        if (value != decimal.Truncate(value))
        {
            Error(path, "must be an integer");
            return null;
        }
        if (value < min || value > max)
        {
            // Bounds that only guard against overflow are not worth naming unless crossed.
            Error(path, max < int.MaxValue ? $"must be between {min} and {max}"
                : value < min ? $"must be at least {min}"
                : $"must be at most {max}");
            return null;
        }
        return (long)value;
    }

    public int? Int32(JsonElement element, string path, int min, int max = int.MaxValue)
        => (int?)Integer(element, path, min, max);

    /// <summary>A number greater than zero and at most <paramref name="max"/> (a factor, a rate, a price factor).</summary>
    public decimal? Positive(JsonElement element, string path, decimal max)
    {
        if (element.ValueKind != JsonValueKind.Number)
        {
            Error(path, "must be a number");
            return null;
        }
        if (!element.TryGetDecimal(out var value) || value > max)
        {
            Error(path, $"must be at most {max}");
            return null;
        }
        if (value <= 0)
        {
            Error(path, "must be greater than 0");
            return null;
        }
        return value;
    }

    /// <summary>Money: a number of at least 0 with at most 2 decimals (a price).</summary>
    public decimal? Money(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Number)
        {
            Error(path, "must be a number");
            return null;
        }
        if (!element.TryGetDecimal(out var value) || value > 1_000_000_000m)
        {
            Error(path, "must be at most 1000000000");
            return null;
        }
        if (value < 0 || decimal.Round(value, 2) != value)
        {
            Error(path, "must be an amount of money: at least 0, with at most 2 decimals");
            return null;
        }
        return value;
    }

    public bool? Boolean(JsonElement element, string path)
    {
        if (element.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            Error(path, "must be true or false");
            return null;
        }
        return element.GetBoolean();
    }

    /// <summary>One of a fixed set of words, e.g. <c>purchase | refund | activity</c>.</summary>
    public T? Choice<T>(JsonElement element, string path, IReadOnlyDictionary<string, T> choices) where T : struct
    {
        var value = String(element, path);
        if (value is null) return null;
        if (choices.TryGetValue(value, out var choice)) return choice;
        Error(path, $"'{value}' must be one of: {string.Join(", ", choices.Keys)}");
        return null;
    }

    [GeneratedRegex(@"\A[A-Za-z0-9_$-]+\z")]
    private static partial Regex PlainName();
}

/// <summary>An object of a definition whose properties have been checked against the allowed names.</summary>
internal sealed class DefinitionObject(DefinitionReader reader, JsonElement element, string path)
{
    public string Path { get; } = path;

    public string PathOf(string name) => DefinitionReader.PropertyPath(Path, name);

    /// <summary>The property's value; absent and JSON null are the same (an optional field left out).</summary>
    public JsonElement? Get(string name)
        => element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public bool Has(string name) => Get(name) is not null;

    /// <summary>The property's value, or null after recording that it is required.</summary>
    public JsonElement? Require(string name)
    {
        var value = Get(name);
        if (value is null) reader.Error(PathOf(name), "is required");
        return value;
    }

    /// <summary>Records an error if the property is set where it makes no sense.</summary>
    public void Forbid(string name, string reason)
    {
        if (Has(name)) reader.Error(PathOf(name), $"not allowed {reason}");
    }

    public string? RequiredString(string name)
        => Require(name) is { } value ? reader.String(value, PathOf(name)) : null;

    public string? RequiredCode(string name, Regex pattern, string rule)
        => Require(name) is { } value ? reader.Code(value, PathOf(name), pattern, rule) : null;

    public long? RequiredInteger(string name, long min, long max = long.MaxValue)
        => Require(name) is { } value ? reader.Integer(value, PathOf(name), min, max) : null;

    public int? RequiredInt32(string name, int min, int max = int.MaxValue)
        => Require(name) is { } value ? reader.Int32(value, PathOf(name), min, max) : null;

    public decimal? RequiredPositive(string name, decimal max)
        => Require(name) is { } value ? reader.Positive(value, PathOf(name), max) : null;

    public long? Integer(string name, long min, long max = long.MaxValue)
        => Get(name) is { } value ? reader.Integer(value, PathOf(name), min, max) : null;

    public int? Int32(string name, int min, int max = int.MaxValue)
        => Get(name) is { } value ? reader.Int32(value, PathOf(name), min, max) : null;

    public decimal? Positive(string name, decimal max)
        => Get(name) is { } value ? reader.Positive(value, PathOf(name), max) : null;

    public bool? Boolean(string name)
        => Get(name) is { } value ? reader.Boolean(value, PathOf(name)) : null;

    public T? Choice<T>(string name, IReadOnlyDictionary<string, T> choices) where T : struct
        => Get(name) is { } value ? reader.Choice(value, PathOf(name), choices) : null;

    public DefinitionObject? Object(string name, params string[] allowed)
        => Get(name) is { } value ? reader.Object(value, PathOf(name), allowed) : null;

    public IReadOnlyList<(JsonElement Value, string Path)>? Array(string name, int minCount)
        => Get(name) is { } value ? reader.Array(value, PathOf(name), minCount) : null;
}
