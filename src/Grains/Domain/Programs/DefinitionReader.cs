using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Orleans.Membership.Domain.Programs;

/// <summary>
/// Walks one JSON object of a definition with its path, checking types and collecting every problem
/// instead of stopping at the first.
/// </summary>
internal sealed partial class DefinitionReader(JsonElement element, string path, List<ProgramError> errors)
{
    public JsonElement Element => element;
    public string Path => path;
    public List<ProgramError> Errors => errors;

    public string At(string field) => field.Length == 0 ? (path.Length == 0 ? "$" : path) : path.Length == 0 ? field : $"{path}.{field}";

    public void Error(string field, string message) => errors.Add(new ProgramError(At(field), message));

    public bool Has(string field) => element.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null;

    public void Known(params string[] fields)
    {
        foreach (var p in element.EnumerateObject())
        {
            if (System.Array.IndexOf(fields, p.Name) < 0) Error(p.Name, $"unknown property (expected one of: {string.Join(", ", fields)})");
        }
    }

    private bool Get(string field, bool required, out JsonElement value)
    {
        if (element.TryGetProperty(field, out value) && value.ValueKind != JsonValueKind.Null) return true;
        if (required) Error(field, "is required");
        return false;
    }

    public string? String(string field, bool required = false)
    {
        if (!Get(field, required, out var v)) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        Error(field, "must be a string");
        return null;
    }

    public string? Code(string field, bool required = true)
    {
        var s = String(field, required);
        if (s is not null && !CodePattern().IsMatch(s))
        {
            Error(field, "must match ^[a-z0-9][a-z0-9-]{0,31}$ (lowercase letters, digits, '-')");
            return null;
        }
        return s;
    }

    public decimal? Number(string field, bool required = false, decimal? greaterThan = null)
    {
        if (!Get(field, required, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDecimal(out var d))
        {
            Error(field, "must be a number");
            return null;
        }
        if (greaterThan is { } min && d <= min)
        {
            Error(field, $"must be greater than {min.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }
        return d;
    }

    public long? Integer(string field, bool required = false, long min = long.MinValue, long max = long.MaxValue)
    {
        if (!Get(field, required, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var n))
        {
            Error(field, "must be a whole number");
            return null;
        }
        if (n < min || n > max)
        {
            Error(field, max == long.MaxValue ? $"must be at least {min}" : $"must be from {min} to {max}");
            return null;
        }
        return n;
    }

    public bool? Boolean(string field)
    {
        if (!Get(field, false, out var v)) return null;
        if (v.ValueKind is JsonValueKind.True or JsonValueKind.False) return v.GetBoolean();
        Error(field, "must be true or false");
        return null;
    }

    public DefinitionReader? Object(string field, bool required = false)
    {
        if (!Get(field, required, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Object) return new DefinitionReader(v, At(field), errors);
        Error(field, "must be an object");
        return null;
    }

    /// <summary>The items of an array field, each with its path (<c>tiers[2]</c>).</summary>
    public List<(JsonElement Item, string Path)>? Array(string field, bool required = false, bool nonEmpty = false)
    {
        if (!Get(field, required, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Array)
        {
            Error(field, "must be an array");
            return null;
        }
        var items = v.EnumerateArray().Select((item, i) => (item, $"{At(field)}[{i}]")).ToList();
        if (nonEmpty && items.Count == 0) Error(field, "must not be empty");
        return items;
    }

    public List<DefinitionReader> Objects(string field, bool required = false, bool nonEmpty = false)
    {
        var result = new List<DefinitionReader>();
        foreach (var (item, itemPath) in Array(field, required, nonEmpty) ?? [])
        {
            if (item.ValueKind == JsonValueKind.Object) result.Add(new DefinitionReader(item, itemPath, errors));
            else errors.Add(new ProgramError(itemPath, "must be an object"));
        }
        return result;
    }

    /// <summary>An array of strings, each checked against <paramref name="allowed"/> (a set of defined codes).</summary>
    public List<string>? Strings(string field, IReadOnlyCollection<string>? allowed = null, string? what = null)
    {
        var items = Array(field);
        if (items is null) return null;
        var result = new List<string>();
        foreach (var (item, itemPath) in items)
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                errors.Add(new ProgramError(itemPath, "must be a string"));
                continue;
            }
            var s = item.GetString()!;
            if (allowed is not null && !allowed.Contains(s))
            {
                errors.Add(new ProgramError(itemPath, $"'{s}' is not a defined {what} ({(allowed.Count == 0 ? "none are defined" : string.Join(", ", allowed))})"));
                continue;
            }
            if (result.Contains(s)) errors.Add(new ProgramError(itemPath, $"'{s}' is listed twice"));
            else result.Add(s);
        }
        return result;
    }

    /// <summary>A month count written <c>P&lt;n&gt;M</c>.</summary>
    public int? Months(string field, bool required = false)
    {
        var s = String(field, required);
        if (s is null) return null;
        var m = MonthsPattern().Match(s);
        if (!m.Success || !int.TryParse(m.Groups[1].Value, out var n) || n < 1 || n > 120)
        {
            Error(field, "must be a number of months as P<n>M, n from 1 to 120 (e.g. P12M)");
            return null;
        }
        return n;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,31}$", RegexOptions.CultureInvariant)]
    public static partial Regex CodePattern();

    [GeneratedRegex("^P([0-9]{1,3})M$", RegexOptions.CultureInvariant)]
    private static partial Regex MonthsPattern();

    [GeneratedRegex("^P([0-9]{1,2})([MY])$", RegexOptions.CultureInvariant)]
    public static partial Regex TermPattern();

    [GeneratedRegex("^[a-z][a-z0-9._-]{0,63}$", RegexOptions.CultureInvariant)]
    public static partial Regex EventTypePattern();
}
