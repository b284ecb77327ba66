using System.Text.Json;
using System.Text.Unicode;
using Orleans.Membership.Domain;

namespace Orleans.Membership.Api.Http;

/// <summary>
/// Reads JSON that came from outside (an HTTP body, a NATS message) by the same rules: a UTF-8 byte order
/// mark skipped, UTF-8 throughout, each property once, every string whole characters.
/// </summary>
public static class JsonInput
{
    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false };

    /// <summary>What is wrong with a body: the field path (<c>$</c> for the whole) and why.</summary>
    public readonly record struct Problem(string Field, string Message);

    /// <summary>The document, or null and its problem.</summary>
    public static JsonDocument? Parse(ReadOnlyMemory<byte> bytes, out Problem problem)
    {
        problem = default;
        bytes = WithoutBom(bytes);
        // The parser checks a string's bytes only when it is read: a bad one would fail later, mid-request.
        if (!Utf8.IsValid(bytes.Span))
        {
            problem = new("$", "the body is not valid UTF-8");
            return null;
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes, Strict);
        }
        catch (JsonException strictError)
        {
            problem = Why(bytes, strictError);
            return null;
        }
        catch (InvalidOperationException)
        {
            // The check for repeated names reads every name: one with half a surrogate pair throws.
            doc = JsonDocument.Parse(bytes);
        }
        if (JsonText.MayBeBroken(bytes.Span) && JsonText.FirstBroken(doc.RootElement) is { } broken)
        {
            doc.Dispose();
            problem = new(broken, JsonText.BrokenText);
            return null;
        }
        return doc;
    }

    /// <summary>The bytes without a UTF-8 byte order mark, which some clients put first and JSON does not allow.</summary>
    public static ReadOnlyMemory<byte> WithoutBom(ReadOnlyMemory<byte> bytes) => bytes.Span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? bytes[3..] : bytes;

    /// <summary>
    /// Why a body did not parse: a property given twice (named by its path, found by parsing again with
    /// repeats allowed: the parser names only the property) or the syntax error.
    /// </summary>
    private static Problem Why(ReadOnlyMemory<byte> bytes, JsonException strictError)
    {
        try
        {
            using var lenient = JsonDocument.Parse(bytes);
            if (FirstRepeat(lenient.RootElement, "") is { } path) return new(path, "is given more than once: give each property once");
            return new("$", $"the body is not valid JSON: {JsonText.Describe(strictError)}");
        }
        catch (JsonException e)
        {
            return new("$", $"the body is not valid JSON: {JsonText.Describe(e)}");
        }
    }

    /// <summary>The path of the first property (in document order) whose name its object already has.</summary>
    private static string? FirstRepeat(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    var inner = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                    if (!seen.Add(property.Name)) return inner;
                    if (FirstRepeat(property.Value, inner) is { } found) return found;
                }
                return null;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FirstRepeat(item, $"{path}[{i++}]") is { } found) return found;
                }
                return null;
            default:
                return null;
        }
    }
}
