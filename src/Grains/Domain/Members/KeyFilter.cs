namespace Orleans.Membership.Domain.Members;

/// <summary>
/// A Bloom filter of string keys (a member's caller ids, or its order ids): "no" is certain, "maybe" must
/// be confirmed against the ledger. It grows in segments, each for twice as many keys as the one before
/// and with more bits a key, so a false "maybe" stays under about 1 in 250 (12 bits a key in the first,
/// two more in each next) however many keys a member gathers; it never forgets a key. Hashes are FNV-1a over the key's characters, the same in
/// every process, because the filter is stored in snapshots.
/// </summary>
[GenerateSerializer, Alias("key-filter")]
public sealed class KeyFilter
{
    private const int FirstBitsPerKey = 12;
    // 32 ids in 48 bytes: a second segment costs an active member 168 bytes more, a first for 32 only 24.
    private const int FirstCapacity = 32;

    /// <summary>The first segment: most members never need another.</summary>
    [Id(0)] private ulong[]? _first;
    /// <summary>The later segments, oldest first; only the last segment takes new keys.</summary>
    [Id(1)] private List<ulong[]>? _more;
    /// <summary>Keys in the last segment.</summary>
    [Id(2)] private int _inLast;

    private int Segments => _first is null ? 0 : 1 + (_more?.Count ?? 0);
    private ulong[] Segment(int n) => n == 0 ? _first! : _more![n - 1];

    public void Add(string key)
    {
        if (_first is null || _inLast >= Segment(Segments - 1).Length * 64 / BitsPerKeyOf(Segments - 1))
        {
            var n = Segments;
            var bits = new ulong[(CapacityOf(n) * BitsPerKeyOf(n) + 63) / 64];
            if (n == 0) _first = bits;
            else (_more ??= []).Add(bits);
            _inLast = 0;
        }
        var last = Segments - 1;
        var (h1, h2) = Hash(key);
        for (var i = 0; i < ProbesOf(last); i++) Set(Segment(last), h1 + (ulong)i * h2);
        _inLast++;
    }

    public bool MayContain(string key)
    {
        if (_first is null) return false;
        var (h1, h2) = Hash(key);
        for (var n = 0; n < Segments; n++)
        {
            var bits = Segment(n);
            var all = true;
            for (var i = 0; i < ProbesOf(n) && all; i++) all = IsSet(bits, h1 + (ulong)i * h2);
            if (all) return true;
        }
        return false;
    }

    /// <summary>Keys a new segment is made for (a segment from a snapshot holds as many as its bits are for).</summary>
    private static int CapacityOf(int segment) => FirstCapacity << segment;
    private static int BitsPerKeyOf(int segment) => FirstBitsPerKey + 2 * segment;
    /// <summary>About ln 2 probes a bit per key, the count that makes a false "maybe" least likely.</summary>
    private static int ProbesOf(int segment) => BitsPerKeyOf(segment) * 7 / 10;

    private static void Set(ulong[] bits, ulong hash)
    {
        var bit = hash % (ulong)(bits.Length * 64);
        bits[bit / 64] |= 1UL << (int)(bit % 64);
    }

    private static bool IsSet(ulong[] bits, ulong hash)
    {
        var bit = hash % (ulong)(bits.Length * 64);
        return (bits[bit / 64] & (1UL << (int)(bit % 64))) != 0;
    }

    /// <summary>Two independent-enough hashes for double hashing: FNV-1a, and a mix of it.</summary>
    private static (ulong, ulong) Hash(string key)
    {
        var h = 14695981039346656037UL;
        foreach (var c in key) h = (h ^ c) * 1099511628211UL;
        var g = h ^ (h >> 33);
        g *= 0xff51afd7ed558ccdUL;
        g ^= g >> 33;
        g *= 0xc4ceb9fe1a85ec53UL;
        g ^= g >> 33;
        return (h, g | 1);
    }
}
