using Microsoft.AspNetCore.Http.HttpResults;
using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Orleans.Membership.Api.Http;

/// <summary>
/// How large a request body may be (<c>Membership:Limits</c>). A full batch of 1,000 order events is
/// about 230 kB, and 570 kB with every id at its longest (RequestBodyTests): the ordinary limit keeps room above that.
/// </summary>
public sealed class RequestLimits
{
    public const string Section = "Membership:Limits";

    /// <summary>Every body but a program definition.</summary>
    public long MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>The body of <c>PUT /v1/programs/{programId}</c>.</summary>
    public long MaxProgramBytes { get; set; } = 4 * 1024 * 1024;

    public string? Problem()
    {
        if (MaxBodyBytes < 1) return $"{Section}:MaxBodyBytes must be at least 1, not {MaxBodyBytes}";
        if (MaxProgramBytes < 1) return $"{Section}:MaxProgramBytes must be at least 1, not {MaxProgramBytes}";
        return null;
    }
}

/// <summary>The body size limit of an endpoint; endpoint routing applies it to the server's request body feature.</summary>
public sealed record BodySizeLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata;

/// <summary>
/// The rules every request body follows, in one place: declared as JSON (415 otherwise), within the
/// endpoint's size limit (413), and each JSON property given once (400 naming its path).
/// </summary>
public static class RequestBodies
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Endpoints that take JSON bodies: the content-type and size checks run before the handler (after the
    /// role checks added before this call); the size limit is <see cref="RequestLimits.MaxBodyBytes"/>
    /// unless <paramref name="limit"/> picks another.
    /// </summary>
    public static TBuilder AcceptsJsonBodies<TBuilder>(this TBuilder builder, Func<RequestLimits, long>? limit = null)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            var limits = endpoint.ApplicationServices.GetRequiredService<IOptions<RequestLimits>>().Value;
            endpoint.Metadata.Add(new BodySizeLimit((limit ?? (l => l.MaxBodyBytes))(limits)));
        });
        builder.AddEndpointFilter(async (context, next) => Refusal(context.HttpContext) ?? await next(context));
        return builder;
    }

    /// <summary>415 or 413 for a body that cannot be taken, judged from its headers; null otherwise.</summary>
    public static ProblemHttpResult? Refusal(HttpContext http)
    {
        var request = http.Request;
        if (!HasBody(http)) return null;
        // Chunks and no declared type: whether anything comes is known only once read (the reader decides).
        if (request.ContentLength is null && string.IsNullOrEmpty(request.ContentType)) return null;
        if (!IsJson(request.ContentType)) return Problems.UnsupportedMediaType(request.ContentType);
        var size = http.Features.Get<IHttpMaxRequestBodySizeFeature>();
        var limit = size?.MaxRequestBodySize;
        if (request.ContentLength is not { } length || length <= limit) return null;
        // Kestrel discards an unread body after the answer only within the request's limit; over it, it drops
        // the connection, and a client still sending may lose the 413. Up to a bound, it may discard it.
        if (size is { IsReadOnly: false } && length <= DiscardedAtMost) size.MaxRequestBodySize = length;
        return Problems.TooLarge(limit);
    }

    /// <summary>The largest refused body the server reads to its end (Kestrel's own default limit) rather than drop the connection.</summary>
    private const long DiscardedAtMost = 30_000_000;

    /// <summary>A body is there when it has a length above zero or is sent in chunks.</summary>
    public static bool HasBody(HttpContext http)
        => http.Request.ContentLength is { } length
            ? length > 0
            : http.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? false;

    /// <summary><c>application/json</c> or <c>application/*+json</c>, in UTF-8 (the only charset JSON has).</summary>
    public static bool IsJson(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media)) return false;
        var type = media.MediaType;
        var json = type.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (type.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && type.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
        var charset = HeaderUtilities.RemoveQuotes(media.Charset);
        return json && (!charset.HasValue || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// The body as a JSON document that lives until the response is sent, or the error to answer. An
    /// <paramref name="optional"/> body may be absent (or blank): then both are null.
    /// </summary>
    public static async Task<(JsonDocument? Document, ProblemHttpResult? Error)> ReadJsonAsync(HttpRequest request, bool optional = false)
    {
        if (Refusal(request.HttpContext) is { } refused) return (null, refused);
        if (!HasBody(request.HttpContext))
        {
            return optional ? (null, null) : (null, Problems.Validation("$", "a JSON body is required"));
        }
        var (buffer, length, error) = await ReadAsync(request);
        if (error is not null) return (null, error);
        if (UndeclaredContent(request, length) is { } undeclared)
        {
            ArrayPool<byte>.Shared.Return(buffer!);
            return (null, undeclared);
        }
        var owner = new RentedBody(buffer!);
        request.HttpContext.Response.RegisterForDispose(owner);
        var bytes = buffer.AsMemory(0, length);
        if (optional && JsonInput.WithoutBom(bytes).Span.Trim(" \t\r\n"u8).IsEmpty) return (null, null);
        owner.Document = JsonInput.Parse(bytes, out var problem);
        return owner.Document is null ? (null, Problems.Validation(problem.Field, problem.Message)) : (owner.Document, null);
    }

    /// <summary>The body as UTF-8 text, or the error to answer (a program definition: its compiler reads the JSON).</summary>
    public static async Task<(string? Text, ProblemHttpResult? Error)> ReadTextAsync(HttpRequest request)
    {
        if (Refusal(request.HttpContext) is { } refused) return (null, refused);
        if (!HasBody(request.HttpContext)) return ("", null);
        var (buffer, length, error) = await ReadAsync(request);
        if (error is not null) return (null, error);
        try
        {
            if (UndeclaredContent(request, length) is { } undeclared) return (null, undeclared);
            return (Utf8.GetString(JsonInput.WithoutBom(buffer.AsMemory(0, length)).Span), null);
        }
        catch (DecoderFallbackException)
        {
            return (null, Problems.Validation("$", "the body is not valid UTF-8"));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer!);
        }
    }

    /// <summary>415 for bytes that came in chunks without a declared type (an empty chunked body is no body).</summary>
    private static ProblemHttpResult? UndeclaredContent(HttpRequest request, int length)
        => length > 0 && !IsJson(request.ContentType) ? Problems.UnsupportedMediaType(request.ContentType) : null;

    /// <summary>Reads the whole body into a pooled buffer; the server's size limit ends a longer one with a 413.</summary>
    private static async Task<(byte[]? Buffer, int Length, ProblemHttpResult? Error)> ReadAsync(HttpRequest request)
    {
        var limit = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
        var first = request.ContentLength is { } declared and > 0 && declared < int.MaxValue ? (int)declared : 16 * 1024;
        var buffer = ArrayPool<byte>.Shared.Rent(first);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = await request.Body.ReadAsync(buffer.AsMemory(length), request.HttpContext.RequestAborted);
                if (read == 0) return (buffer, length, null);
                length += read;
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return (null, 0, Problems.TooLarge(limit));
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>A body's pooled bytes and the document over them, both let go when the response is done.</summary>
    private sealed class RentedBody(byte[] buffer) : IDisposable
    {
        public JsonDocument? Document { get; set; }

        public void Dispose()
        {
            Document?.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
