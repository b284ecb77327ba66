using System.Text.Json;

namespace Orleans.Membership.Domain.Members;

/// <summary>
/// The <c>attributes</c> object of an event, read once for the rules that use it (a formula's base, a
/// counter's quantity, a condition's value, a cap's key). Events of types that read no attribute never parse it.
/// </summary>
public sealed class EventAttributes
{
    private readonly List<(string Name, JsonValueKind Kind, string? Text, decimal? Number)> _values = [];

    public static readonly EventAttributes Empty = new();

    /// <summary>The attributes of <paramref name="json"/>, or null when it is not a JSON object.</summary>
    public static EventAttributes? Parse(string? json)
    {
        if (string.IsNullOrEmpty(json)) return Empty;
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return null;
            var attributes = new EventAttributes();
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                var value = property.Value;
                attributes._values.Add((property.Name, value.ValueKind,
                    value.ValueKind == JsonValueKind.String ? value.GetString() : null,
                    value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var d) ? d : null));
            }
            return attributes;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private int Find(string name)
    {
        for (var i = 0; i < _values.Count; i++)
        {
            if (_values[i].Name == name) return i;
        }
        return -1;
    }

    public bool Has(string name) => Find(name) >= 0;

    public JsonValueKind Kind(string name) => Find(name) is var i and >= 0 ? _values[i].Kind : JsonValueKind.Undefined;

    /// <summary>The attribute's value when it is a string.</summary>
    public string? Text(string name) => Find(name) is var i and >= 0 ? _values[i].Text : null;

    /// <summary>The attribute's value when it is a number that fits a decimal.</summary>
    public decimal? Number(string name) => Find(name) is var i and >= 0 ? _values[i].Number : null;
}
