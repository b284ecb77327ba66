using System.Collections;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Domain.Collections;

/// <summary>
/// The caller ids a member has seen (every event id, redemption id, use id...), each with what its first
/// use was. A member gains one per event, so they are kept for the collector's sake: a
/// <see cref="KeyedRows{T}"/> of small values without references, added to in place. Kinds and body
/// hashes the engine writes are kept as codes and bytes; anything else (another spelling of a hash, a
/// stored response) goes to a small side map. Not thread-safe: only the member's own activation touches it.
/// </summary>
public sealed class CallerIdTable : IEnumerable<KeyValuePair<string, CallerIdRecord>>
{
    private static readonly string[] Kinds =
    [
        LedgerKinds.Enroll, LedgerKinds.Earn, LedgerKinds.Redeem, LedgerKinds.Expire,
        LedgerKinds.Clawback, LedgerKinds.BenefitUse, LedgerKinds.Subscription, LedgerKinds.Tier,
    ];

    /// <summary>Bytes of the body hashes <see cref="MemberRules.Hash"/> writes (24 upper-case hex digits).</summary>
    private const int DigestBytes = 12;
    private const byte NoKind = byte.MaxValue;

    private struct Entry
    {
        public long Seq;
        public ulong DigestHigh;
        public uint DigestLow;
        public byte Kind;
        public bool HasDigest;
    }

    /// <summary>What does not fit an entry: a kind or hash in another form, a stored response.</summary>
    private sealed record Extra(string Kind, string? BodyHash, string? Response);

    private readonly KeyedRows<Entry> _rows;
    private readonly Dictionary<int, Extra> _extras;

    public CallerIdTable() : this(new KeyedRows<Entry>(), []) { }

    private CallerIdTable(KeyedRows<Entry> rows, Dictionary<int, Extra> extras)
    {
        _rows = rows;
        _extras = extras;
    }

    public int Count => _rows.Count;

    public bool ContainsKey(string id) => _rows.ContainsKey(id);

    public bool TryGetValue(string id, out CallerIdRecord record)
    {
        var index = _rows.IndexOf(id);
        record = index < 0 ? null! : Record(index, _rows.ValueAt(index));
        return index >= 0;
    }

    /// <summary>Adds <paramref name="id"/>; an id already present keeps its first record (false).</summary>
    public bool Add(string id, CallerIdRecord record) => Add(id, record.Kind, record.BodyHash, record.Seq, record.Response);

    /// <inheritdoc cref="Add(string, CallerIdRecord)"/>
    public bool Add(string id, string kind, string? bodyHash, long seq, string? response)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(kind);
        if (_rows.ContainsKey(id)) return false;
        var entry = new Entry { Seq = seq, Kind = KindCode(kind) };
        var compact = entry.Kind != NoKind && response is null && TryDigest(bodyHash, ref entry);
        if (!compact) _extras.Add(_rows.Count, new Extra(kind, bodyHash, response));
        _rows.Append(id, entry);
        return true;
    }

    /// <summary>Takes out the id added last (undoing that add).</summary>
    public void RemoveLast()
    {
        _rows.RemoveLast();
        _extras.Remove(_rows.Count);
    }

    public static CallerIdTable From(IEnumerable<KeyValuePair<string, CallerIdRecord>> pairs)
    {
        var table = new CallerIdTable();
        foreach (var (id, record) in pairs) table.Add(id, record);
        return table;
    }

    /// <summary>A table of its own with the same ids.</summary>
    public CallerIdTable Copy() => new(_rows.Copy(), new Dictionary<int, Extra>(_extras));

    public IEnumerator<KeyValuePair<string, CallerIdRecord>> GetEnumerator()
    {
        var index = 0;
        foreach (var (id, entry) in _rows) yield return new(id, Record(index++, entry));
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private CallerIdRecord Record(int index, Entry e)
    {
        if (_extras.TryGetValue(index, out var extra)) return new CallerIdRecord(extra.Kind, extra.BodyHash, e.Seq, extra.Response);
        string? bodyHash = null;
        if (e.HasDigest)
        {
            Span<byte> digest = stackalloc byte[DigestBytes];
            BitConverter.TryWriteBytes(digest, e.DigestHigh);
            BitConverter.TryWriteBytes(digest[8..], e.DigestLow);
            bodyHash = Convert.ToHexString(digest);
        }
        return new CallerIdRecord(Kinds[e.Kind], bodyHash, e.Seq, null);
    }

    private static byte KindCode(string kind)
    {
        for (var i = 0; i < Kinds.Length; i++)
        {
            if (string.Equals(Kinds[i], kind, StringComparison.Ordinal)) return (byte)i;
        }
        return NoKind;
    }

    /// <summary>Keeps a null hash, or one in <see cref="MemberRules.Hash"/>'s exact form, as bytes; false for any other.</summary>
    private static bool TryDigest(string? bodyHash, ref Entry entry)
    {
        if (bodyHash is null) return true;
        if (bodyHash.Length != DigestBytes * 2) return false;
        Span<byte> digest = stackalloc byte[DigestBytes];
        if (Convert.FromHexString(bodyHash, digest, out _, out var written) != System.Buffers.OperationStatus.Done || written != DigestBytes) return false;
        // Only upper-case digits round-trip; anything else is kept as written.
        foreach (var c in bodyHash)
        {
            if (c is >= 'a' and <= 'f') return false;
        }
        entry.DigestHigh = BitConverter.ToUInt64(digest);
        entry.DigestLow = BitConverter.ToUInt32(digest[8..]);
        entry.HasDigest = true;
        return true;
    }
}
