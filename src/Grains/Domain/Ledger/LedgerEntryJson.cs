using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orleans.Membership.Domain.Ledger;

/// <summary>
/// How both ledgers store an entry: JSON with default values left out (an entry sets few of its fields,
/// and none has an initializer, so leaving defaults out round-trips exactly). A reader takes either form,
/// so rows written with every field (before this form) read the same.
/// </summary>
public static class LedgerEntryJson
{
    /// <summary>The entry as UTF-8 JSON: what the embedded ledger keeps and what PostgreSQL's jsonb is sent.</summary>
    public static byte[] Encode(LedgerEntry entry) => JsonSerializer.SerializeToUtf8Bytes(entry, CompactLedgerJson.Default.LedgerEntry);

    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    /// <summary>
    /// The same bytes as <see cref="Encode(LedgerEntry)"/>, appended to <paramref name="into"/> instead of a new
    /// array: the embedded ledger copies them onto its pages at once, so an array per entry was only garbage.
    /// </summary>
    public static void Encode(LedgerEntry entry, IBufferWriter<byte> into)
    {
        var writer = t_writer;
        if (writer is null) t_writer = writer = new Utf8JsonWriter(into, new JsonWriterOptions { SkipValidation = true });
        else writer.Reset(into);
        JsonSerializer.Serialize(writer, entry, CompactLedgerJson.Default.LedgerEntry);
        writer.Flush();
    }

    /// <summary>An entry from its UTF-8 JSON, compact or full: the embedded ledger's pages, PostgreSQL's jsonb read as bytes.</summary>
    public static LedgerEntry Decode(ReadOnlySpan<byte> utf8) => JsonSerializer.Deserialize(utf8, CompactLedgerJson.Default.LedgerEntry)
        ?? throw new JsonException("a ledger entry was null");
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault)]
[JsonSerializable(typeof(LedgerEntry))]
internal sealed partial class CompactLedgerJson : JsonSerializerContext;
