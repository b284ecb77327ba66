using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Orleans.Membership.LoadTests.Harness;

namespace Orleans.Membership.LoadTests.Http;

/// <summary>
/// A small HTTP/1.1 client for plain-HTTP targets, in the manner of wrk: a pool of keep-alive sockets,
/// one request at a time on each, the request written into a buffer the connection keeps and the answer
/// parsed in place (Content-Length or chunked bodies are counted, not kept). It costs the generator a
/// fraction of what <see cref="HttpClient"/> does, and on a shared machine that CPU is the node's.
/// A request waits for a free connection when all are busy; an answer that takes longer than the timeout
/// fails the request and closes its connection. A request that fails on a reused connection before any of
/// the answer arrived (the node closed an idle connection) is sent once more on a new one, as HttpClient does.
/// </summary>
public sealed class LeanHttp : IHttpTransport
{
    private readonly EndPoint _endpoint;
    private readonly byte[] _headers;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentStack<Connection> _idle = new();
    private readonly List<Connection> _all = [];
    private readonly long _timeoutTicks;
    private readonly Timer _watchdog;
    private volatile bool _disposed;

    public LeanHttp(Uri target, int connections, IEnumerable<KeyValuePair<string, string>> headers, TimeSpan timeout)
    {
        if (target.Scheme != Uri.UriSchemeHttp) throw new ArgumentException($"the lean client speaks plain HTTP only, not '{target.Scheme}'", nameof(target));
        ArgumentOutOfRangeException.ThrowIfLessThan(connections, 1);
        _endpoint = IPAddress.TryParse(target.Host.Trim('[', ']'), out var address)
            ? new IPEndPoint(address, target.Port)
            : new DnsEndPoint(target.Host, target.Port);
        var lines = new StringBuilder().Append("Host: ").Append(target.Authority).Append("\r\n");
        foreach (var (name, value) in headers) lines.Append(name).Append(": ").Append(value).Append("\r\n");
        _headers = Encoding.ASCII.GetBytes(lines.ToString());
        _slots = new SemaphoreSlim(connections, connections);
        _timeoutTicks = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        var period = TimeSpan.FromMilliseconds(Math.Clamp(timeout.TotalMilliseconds / 4, 10, 1000));
        _watchdog = new Timer(_ => AbortLate(), null, period, period);
    }

    public async Task<Response> Send(HttpMethod method, string path, string? json, CancellationToken ct, bool keepBody = false)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _slots.WaitAsync(ct);
        ServiceClock.Connected();
        try
        {
            while (true)
            {
                var reused = _idle.TryPop(out var connection);
                connection ??= await Open(ct);
                try
                {
                    var (status, bytes, keepAlive, body) = await connection.Exchange(method.Method, path, _headers, json, keepBody, ct);
                    if (keepAlive && !_disposed) _idle.Push(connection);
                    else Close(connection);
                    return Transports.Outcome(status, bytes, method, path, body);
                }
                catch (Exception e)
                {
                    Close(connection);
                    if (connection.TimedOut) throw new TimeoutException($"no answer to {method} {Transports.Route(path)} within {(double)_timeoutTicks / Stopwatch.Frequency:0.###} s");
                    if (e is OperationCanceledException || !reused || connection.Answered) throw;
                }
            }
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task<Connection> Open(CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(_endpoint, ct);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var connection = new Connection(socket);
        lock (_all) _all.Add(connection);
        return connection;
    }

    private void Close(Connection connection)
    {
        lock (_all) _all.Remove(connection);
        connection.Dispose();
    }

    /// <summary>The watchdog: closes connections whose request has waited past the timeout.</summary>
    private void AbortLate()
    {
        var now = Stopwatch.GetTimestamp();
        lock (_all)
        {
            foreach (var c in _all)
            {
                var since = Volatile.Read(ref c.BusySince);
                if (since != 0 && now - since > _timeoutTicks) c.Abort();
            }
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _watchdog.Dispose();
        lock (_all)
        {
            foreach (var c in _all) c.Dispose();
            _all.Clear();
        }
    }

    /// <summary>One keep-alive socket with its buffers; used by one request at a time.</summary>
    private sealed class Connection(Socket socket) : IDisposable
    {
        private byte[] _out = new byte[4096];
        private byte[] _in = new byte[16384];
        private int _start, _end; // the unread part of _in
        private readonly MemoryStream _kept = new(); // the answer's body as far as it is kept
        private int _keep; // how much more of it to keep
        public long BusySince; // Stopwatch ticks, 0 when idle: read by the watchdog
        public bool TimedOut { get; private set; }
        /// <summary>Whether any of the answer to the last request arrived.</summary>
        public bool Answered { get; private set; }

        public async ValueTask<(int Status, long Bytes, bool KeepAlive, string? Body)> Exchange(
            string method, string path, byte[] headers, string? json, bool keepBody, CancellationToken ct)
        {
            Answered = false;
            Volatile.Write(ref BusySince, Stopwatch.GetTimestamp());
            try
            {
                var length = WriteRequest(method, path, headers, json);
                for (var sent = 0; sent < length;)
                {
                    sent += await socket.SendAsync(_out.AsMemory(sent, length - sent), SocketFlags.None, ct);
                }
                _start = _end = 0;
                int headerEnd;
                while ((headerEnd = _in.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8)) < 0) await Fill(ct);
                var (status, contentLength, chunked, keepAlive) = ParseHead(_in.AsSpan(_start, headerEnd + 2));
                _start += headerEnd + 4;
                _kept.SetLength(0);
                _keep = status is >= 200 and < 300 ? (keepBody ? Transports.MaxKeptBody : 0) : Transports.MaxKeptFailure;
                long body;
                if (status is 204 or 304 || (status >= 100 && status < 200)) body = 0;
                else if (chunked) body = await SkipChunked(ct);
                else if (contentLength >= 0) { await Skip(contentLength, ct); body = contentLength; }
                else { body = await SkipToEnd(ct); keepAlive = false; }
                var text = _kept.Length > 0 ? Encoding.UTF8.GetString(_kept.GetBuffer(), 0, (int)_kept.Length) : null;
                // Nothing may follow the answer: one request at a time, no pipelining.
                return (status, body, keepAlive && _start == _end, text);
            }
            finally
            {
                Volatile.Write(ref BusySince, 0);
            }
        }

        private int WriteRequest(string method, string path, byte[] headers, string? json)
        {
            var bodyLength = json is null ? 0 : Encoding.UTF8.GetByteCount(json);
            var size = method.Length + path.Length * 3 + headers.Length + bodyLength + 128;
            if (_out.Length < size) _out = new byte[Math.Max(size, _out.Length * 2)];
            var span = _out.AsSpan();
            var n = Encoding.ASCII.GetBytes(method, span);
            span[n++] = (byte)' ';
            n += Encoding.UTF8.GetBytes(path, span[n..]);
            n += Append(span[n..], " HTTP/1.1\r\n"u8);
            n += Append(span[n..], headers);
            if (json is not null)
            {
                n += Append(span[n..], "Content-Type: application/json; charset=utf-8\r\nContent-Length: "u8);
                Utf8Formatter.TryFormat(bodyLength, span[n..], out var digits);
                n += digits;
                n += Append(span[n..], "\r\n"u8);
            }
            n += Append(span[n..], "\r\n"u8);
            if (json is not null) n += Encoding.UTF8.GetBytes(json, span[n..]);
            return n;
        }

        private static int Append(Span<byte> to, ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(to);
            return bytes.Length;
        }

        /// <summary>The status line and the three headers that decide how the body is framed and whether the connection stays.</summary>
        private static (int Status, long ContentLength, bool Chunked, bool KeepAlive) ParseHead(ReadOnlySpan<byte> head)
        {
            var lineEnd = head.IndexOf("\r\n"u8);
            var statusLine = head[..lineEnd];
            if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || !Utf8Parser.TryParse(statusLine.Slice(9, 3), out int status, out _))
            {
                throw new InvalidDataException($"not an HTTP/1.x status line: '{Encoding.ASCII.GetString(statusLine)}'");
            }
            var keepAlive = statusLine[7] == (byte)'1'; // HTTP/1.0 closes unless told otherwise
            long contentLength = -1;
            var chunked = false;
            var rest = head[(lineEnd + 2)..];
            while (rest.Length > 0)
            {
                var end = rest.IndexOf("\r\n"u8);
                var line = rest[..end];
                rest = rest[(end + 2)..];
                var colon = line.IndexOf((byte)':');
                if (colon <= 0) continue;
                var name = line[..colon];
                var value = line[(colon + 1)..].Trim((byte)' ');
                if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
                {
                    if (!Utf8Parser.TryParse(value, out contentLength, out var used) || used != value.Length || contentLength < 0)
                    {
                        throw new InvalidDataException($"bad Content-Length '{Encoding.ASCII.GetString(value)}'");
                    }
                }
                else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8)) chunked = ContainsToken(value, "chunked"u8);
                else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
                {
                    if (ContainsToken(value, "close"u8)) keepAlive = false;
                    else if (ContainsToken(value, "keep-alive"u8)) keepAlive = true;
                }
            }
            return (status, contentLength, chunked, keepAlive);
        }

        private static bool ContainsToken(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
        {
            foreach (var range in value.Split((byte)','))
            {
                if (Ascii.EqualsIgnoreCase(value[range].Trim((byte)' '), token)) return true;
            }
            return false;
        }

        private async Task<long> SkipChunked(CancellationToken ct)
        {
            long total = 0;
            while (true)
            {
                var size = ChunkSize(await NextLine(ct));
                if (size == 0)
                {
                    int trailer;
                    while ((trailer = await NextLine(ct)) > 0) _start += trailer + 2;
                    _start += 2; // the empty line that ends the body
                    return total;
                }
                await Skip(size, ct);
                total += size;
                if (await NextLine(ct) != 0) throw new InvalidDataException("a chunk did not end with CRLF");
                _start += 2;
            }
        }

        /// <summary>Reads the chunk-size line at <c>_start</c> (hex digits, perhaps an extension after ';') and moves past it.</summary>
        private long ChunkSize(int lineLength)
        {
            var line = _in.AsSpan(_start, lineLength);
            var semi = line.IndexOf((byte)';');
            var digits = (semi >= 0 ? line[..semi] : line).Trim((byte)' ');
            if (digits.Length == 0 || !Utf8Parser.TryParse(digits, out ulong size, out var used, 'X') || used != digits.Length || size > long.MaxValue)
            {
                throw new InvalidDataException($"bad chunk size '{Encoding.ASCII.GetString(line)}'");
            }
            _start += lineLength + 2;
            return (long)size;
        }

        /// <summary>Makes sure a whole line is unread at <c>_start</c>; returns its length without the CRLF.</summary>
        private async ValueTask<int> NextLine(CancellationToken ct)
        {
            int end;
            while ((end = _in.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0) await Fill(ct);
            return end;
        }

        private async ValueTask Skip(long count, CancellationToken ct)
        {
            while (count > 0)
            {
                if (_start == _end) await Fill(ct);
                var take = (int)Math.Min(count, _end - _start);
                Keep(_in.AsSpan(_start, take));
                _start += take;
                count -= take;
            }
        }

        private async ValueTask<long> SkipToEnd(CancellationToken ct)
        {
            long total = _end - _start;
            Keep(_in.AsSpan(_start, _end - _start));
            _start = _end = 0;
            int read;
            while ((read = await socket.ReceiveAsync(_in.AsMemory(), SocketFlags.None, ct)) > 0)
            {
                Keep(_in.AsSpan(0, read));
                total += read;
            }
            return total;
        }

        /// <summary>Copies body bytes passed over into the kept text, up to what this answer keeps.</summary>
        private void Keep(ReadOnlySpan<byte> bytes)
        {
            if (_keep <= 0 || bytes.IsEmpty) return;
            var take = Math.Min(_keep, bytes.Length);
            _kept.Write(bytes[..take]);
            _keep -= take;
        }

        /// <summary>Reads more of the answer after what is unread, making room first.</summary>
        private async ValueTask Fill(CancellationToken ct)
        {
            if (_start == _end) _start = _end = 0;
            if (_end == _in.Length)
            {
                if (_start > 0)
                {
                    _in.AsSpan(_start, _end - _start).CopyTo(_in);
                    _end -= _start;
                    _start = 0;
                }
                else
                {
                    Array.Resize(ref _in, _in.Length * 2);
                }
            }
            var read = await socket.ReceiveAsync(_in.AsMemory(_end), SocketFlags.None, ct);
            Answered |= read > 0;
            if (read == 0) throw new IOException("the node closed the connection before the answer was complete");
            _end += read;
        }

        public void Abort()
        {
            TimedOut = true;
            socket.Dispose();
        }

        public void Dispose() => socket.Dispose();
    }
}
