using System.Globalization;
using System.Text.Json;

namespace Orleans.Membership.Api.Http;

/// <summary>
/// Reads fields of a JSON object with exact type checks, collecting every problem under its field path
/// (<c>events[3].amount</c>), so a caller learns all that is wrong with a body at once.
/// </summary>
public sealed class JsonBody
{
    private readonly JsonElement _obj;
    private readonly string _prefix;
    /// <summary>The element's index in the array named <see cref="_prefix"/>, or -1 (the prefix is the whole path).</summary>
    private readonly int _index;
    private Dictionary<string, string[]>? _errors;

    /// <summary>Fields of <paramref name="obj"/> at <paramref name="prefix"/>; problems go to <paramref name="errors"/> (shared with the caller), or to a map of its own made at the first problem.</summary>
    public JsonBody(JsonElement obj, string prefix, Dictionary<string, string[]>? errors = null)
    {
        _obj = obj;
        _prefix = prefix;
        _index = -1;
        _errors = errors;
    }

    /// <summary>
    /// Element <paramref name="index"/> of the array <paramref name="arrayName"/> (<c>events[3]</c>); the
    /// path is spelled only when a problem needs it (a batch of valid events spells none).
    /// </summary>
    public JsonBody(JsonElement obj, string arrayName, int index)
    {
        _obj = obj;
        _prefix = arrayName;
        _index = index;
    }

    public JsonElement Element => _obj;

    /// <summary>Every problem found so far, by field path.</summary>
    public Dictionary<string, string[]> Errors => _errors ??= [];

    private string Prefix => _index < 0 || _prefix.Length == 0 ? _prefix : $"{_prefix}[{_index}]";

    public string Path(string field) => Prefix is { Length: > 0 } prefix ? $"{prefix}.{field}" : field;

    public void Error(string field, string message) => Errors.TryAdd(Path(field), [message]);

    public bool HasErrors => _errors is { Count: > 0 };

    /// <summary>Fields not in <paramref name="known"/> are errors: a typo must not be silently ignored.</summary>
    public void RejectUnknown(params string[] known)
    {
        foreach (var p in _obj.EnumerateObject())
        {
            if (Array.IndexOf(known, p.Name) < 0) Error(p.Name, "unknown field");
        }
    }

    private bool TryGet(string field, out JsonElement value)
    {
        if (_obj.TryGetProperty(field, out value) && value.ValueKind != JsonValueKind.Null) return true;
        value = default;
        return false;
    }

    /// <summary>Whether the body sends <paramref name="field"/> as an explicit JSON null (not merely leaves it out).</summary>
    public bool IsNull(string field) => _obj.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Null;

    public string? String(string field, bool required = false)
    {
        if (!TryGet(field, out var v))
        {
            if (required) Error(field, "is required");
            return null;
        }
        if (v.ValueKind != JsonValueKind.String)
        {
            Error(field, "must be a string");
            return null;
        }
        return v.GetString();
    }

    public string? Id(string field, bool required = true)
    {
        var s = String(field, required);
        if (s is not null && !Domain.Members.CallerIds.IsValid(s))
        {
            Error(field, Domain.Members.CallerIds.Rule);
            return null;
        }
        return s;
    }

    public decimal? Decimal(string field, bool required = false)
    {
        if (!TryGet(field, out var v))
        {
            if (required) Error(field, "is required");
            return null;
        }
        if (v.ValueKind != JsonValueKind.Number)
        {
            Error(field, "must be a number");
            return null;
        }
        if (!v.TryGetDecimal(out var d))
        {
            // Past decimal's range (1e30): far past any amount, whose bound EventValidation names.
            Error(field, $"must be at most {Domain.Members.EventValidation.MaxAmount}");
            return null;
        }
        return d;
    }

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>; out of range, the error says the range.</summary>
    public long? Integer(string field, long min, long max, bool required = false)
    {
        if (!TryGet(field, out var v))
        {
            if (required) Error(field, "is required");
            return null;
        }
        // Read as a decimal: 60.0 or 6e1 is a whole number too, and serializers that hold numbers as doubles write them so.
        if (v.ValueKind != JsonValueKind.Number || (v.TryGetDecimal(out var d) && !decimal.IsInteger(d)))
        {
            Error(field, "must be a whole number");
            return null;
        }
        // Past decimal's range (about 7.9e28) a number is whole, and far out of any range.
        if (!v.TryGetDecimal(out d) || d < min || d > max)
        {
            Error(field, $"must be a whole number from {min} to {max}");
            return null;
        }
        return (long)d;
    }

    /// <summary>An ISO-8601 instant that states its offset (<c>Z</c> or <c>+08:00</c>), returned in UTC (<see cref="Domain.IsoInstant"/>).</summary>
    public DateTimeOffset? Instant(string field)
    {
        var s = String(field);
        if (s is null) return null;
        if (!Domain.IsoInstant.TryRead(s, out var t))
        {
            Error(field, Domain.IsoInstant.Rule);
            return null;
        }
        if (t < Domain.Members.EventValidation.Earliest)
        {
            Error(field, Domain.Members.EventValidation.BeforeEarliest);
            return null;
        }
        return t;
    }

    /// <summary>A JSON object kept as its compact text (null when absent).</summary>
    public string? ObjectText(string field)
    {
        if (!TryGet(field, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Object)
        {
            Error(field, "must be an object");
            return null;
        }
        return JsonSerializer.Serialize(v);
    }
}
