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

    /// <summary>An entry from its UTF-8 JSON, compact or full: the embedded ledger's pages, PostgreSQL's jsonb read as bytes.</summary>
    public static LedgerEntry Decode(ReadOnlySpan<byte> utf8) => JsonSerializer.Deserialize(utf8, CompactLedgerJson.Default.LedgerEntry)
        ?? throw new JsonException("a ledger entry was null");
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault)]
[JsonSerializable(typeof(LedgerEntry))]
internal sealed partial class CompactLedgerJson : JsonSerializerContext;
