using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Orleans.Membership.Domain.Members;

/// <summary>
/// The fingerprint of a request's fields, which tells a retry (same id, same body) from a reused id: the
/// first 12 bytes of SHA-256, in hex, over the fields' UTF-8 joined by U+001F, a missing field written as
/// U+0000, instants in the round-trip ("O") format and money with two decimals. Fields are written
/// straight into one buffer: no string per field, no joined string, no byte array. The bytes are the
/// ones stored fingerprints were made from, so ids recorded before stay recognised.
/// </summary>
public ref struct BodyHash
{
    private Span<byte> _buffer;
    private byte[]? _rented;
    private int _length;
    private bool _any;

    public BodyHash(Span<byte> buffer)
    {
        _buffer = buffer;
    }

    public void Add(string? field)
    {
        if (field is null)
        {
            AddMissing();
            return;
        }
        Separate(Encoding.UTF8.GetMaxByteCount(field.Length));
        _length += Encoding.UTF8.GetBytes(field, _buffer[_length..]);
    }

    public void Add(DateTimeOffset? instant) => AddFormatted(instant, "O");

    public void AddMoney(decimal? amount) => AddFormatted(amount, "0.00");

    public void Add(long number) => AddFormatted((long?)number, default);

    private void AddFormatted<T>(T? value, ReadOnlySpan<char> format) where T : struct, IUtf8SpanFormattable
    {
        if (value is not { } v)
        {
            AddMissing();
            return;
        }
        Separate(64); // the longest: an instant in the "O" format, 33 bytes
        if (!v.TryFormat(_buffer[_length..], out var written, format, CultureInfo.InvariantCulture)) throw new InvalidOperationException("a field did not fit its buffer");
        _length += written;
    }

    /// <summary>The fingerprint; returns the buffer it rented, if any.</summary>
    public string Finish()
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(_buffer[.._length], digest);
        if (_rented is { } rented)
        {
            _rented = null;
            ArrayPool<byte>.Shared.Return(rented);
        }
        return Convert.ToHexString(digest[..12]);
    }

    private void AddMissing()
    {
        Separate(1);
        _buffer[_length++] = 0;
    }

    /// <summary>Writes the separator before every field but the first, and makes room for <paramref name="bytes"/> more.</summary>
    private void Separate(int bytes)
    {
        var need = _length + 1 + bytes;
        if (need > _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(need, _buffer.Length * 2));
            _buffer[.._length].CopyTo(larger);
            if (_rented is { } old) ArrayPool<byte>.Shared.Return(old);
            _rented = larger;
            _buffer = larger;
        }
        if (_any) _buffer[_length++] = 0x1f;
        _any = true;
    }
}
