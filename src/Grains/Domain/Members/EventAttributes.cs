using System.Buffers;
using System.Text;
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

    /// <summary>
    /// The attributes as an event's fingerprint compares them: null when absent or empty, else the object with
    /// its properties in ordinal order at every depth (arrays keep theirs). Key order and <c>{}</c> against no
    /// attributes depend on a producer's serializer, not on what it meant; the HTTP and NATS paths hand on
    /// the object re-serialized, so its strings are escaped one way and numbers stay as written. Text that is
    /// not a JSON object is returned as it is (validation refuses it).
    /// </summary>
    public static string? Canonical(string? json)
    {
        if (string.IsNullOrEmpty(json) || json == "{}") return null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return json;
            if (!root.EnumerateObject().MoveNext()) return null;
            // Keys already in order: the text is canonical as it is (the HTTP and NATS paths wrote it minified).
            if (InOrder(root)) return json;
            var buffer = new ArrayBufferWriter<byte>(json.Length + 16);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                WriteInOrder(writer, root);
            }
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        catch (JsonException)
        {
            return json;
        }
    }

    private static bool InOrder(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                string? last = null;
                foreach (var property in value.EnumerateObject())
                {
                    if (last is not null && string.CompareOrdinal(last, property.Name) > 0) return false;
                    if (!InOrder(property.Value)) return false;
                    last = property.Name;
                }
                return true;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    if (!InOrder(item)) return false;
                }
                return true;
            default:
                return true;
        }
    }

    private static void WriteInOrder(Utf8JsonWriter writer, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                // A stable sort: properties of the same name (JSON allows them) keep their order.
                foreach (var property in value.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    WriteInOrder(writer, property.Value);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in value.EnumerateArray()) WriteInOrder(writer, item);
                writer.WriteEndArray();
                break;
            default:
                value.WriteTo(writer);
                break;
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
