using System.Text.Json;

namespace Orleans.Membership.Domain;

/// <summary>
/// Text JSON can carry and .NET strings cannot hold: a <c>\u</c> escape of half a UTF-16 surrogate pair
/// (what JavaScript writes for a string cut in the middle of an emoji). Reading such a string throws, so
/// input is checked for it once, where it comes in, and refused naming the field.
/// </summary>
public static class JsonText
{
    public const string BrokenText = "holds a \\u escape of half a UTF-16 surrogate pair: text must be whole characters";

    /// <summary>A parse error in a reader's words: the parser's sentence and where, counted from 1 (its own suffix counts from 0).</summary>
    public static string Describe(JsonException e)
    {
        var message = e.Message;
        var suffix = message.IndexOf(" LineNumber:", StringComparison.Ordinal) is var at and >= 0 ? at : message.Length;
        var sentence = message[..suffix].TrimEnd('.', ' ');
        return e.LineNumber is { } line && e.BytePositionInLine is { } position ? $"{sentence} (line {line + 1}, byte {position + 1})" : sentence;
    }

    /// <summary>Whether UTF-8 JSON has a <c>\uD800</c> to <c>\uDFFF</c> escape at all: the rare case worth <see cref="FirstBroken"/>.</summary>
    public static bool MayBeBroken(ReadOnlySpan<byte> json)
    {
        for (var i = json.IndexOf("\\u"u8); i >= 0 && i + 3 < json.Length; )
        {
            if ((json[i + 2] | 0x20) == 'd' && (json[i + 3] | 0x20) is (>= (byte)'8' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f')) return true;
            var next = json[(i + 2)..].IndexOf("\\u"u8);
            i = next < 0 ? -1 : i + 2 + next;
        }
        return false;
    }

    /// <summary>The path (<c>events[3].attributes.note</c>, <c>$</c> for the whole) of the first string or property name that cannot be read, or null.</summary>
    public static string? FirstBroken(JsonElement element, string path = "")
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (!Readable(property)) return path.Length == 0 ? "$" : path;
                    if (FirstBroken(property.Value, path.Length == 0 ? property.Name : $"{path}.{property.Name}") is { } found) return found;
                }
                return null;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FirstBroken(item, $"{path}[{i++}]") is { } found) return found;
                }
                return null;
            case JsonValueKind.String:
                return Readable(element) ? null : path.Length == 0 ? "$" : path;
            default:
                return null;
        }
    }

    private static bool Readable(JsonProperty property)
    {
        try
        {
            _ = property.Name;
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static bool Readable(JsonElement text)
    {
        try
        {
            _ = text.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
