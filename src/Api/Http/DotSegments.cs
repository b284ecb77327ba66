using Microsoft.AspNetCore.Http.Features;
using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Api.Http;

/// <summary>
/// Kestrel removes <c>.</c> and <c>..</c> segments before routing, so an id of <c>.</c> or <c>..</c> would
/// address another resource (<c>members/..</c> is the program). The request as sent is refused instead.
/// </summary>
public static class DotSegments
{
    public static IApplicationBuilder UseRefusedDotSegments(this IApplicationBuilder app)
        => app.Use((context, next) =>
        {
            if (Find(context.Features.Get<IHttpRequestFeature>()?.RawTarget) is not { } segment) return next(context);
            return Problems.Validation("path", $"segment '{segment}' is not an id: ids {CallerIds.Rule}").ExecuteAsync(context);
        });

    /// <summary>The first <c>.</c> or <c>..</c> segment of the path as sent (percent-encoded or not), or null.</summary>
    public static string? Find(string? rawTarget)
    {
        if (rawTarget is null) return null;
        var path = rawTarget.AsSpan();
        var query = path.IndexOf('?');
        if (query >= 0) path = path[..query];
        // Most paths have neither a dot nor an escape: nothing to split.
        if (path.IndexOfAny('.', '%') < 0) return null;
        foreach (var range in path.Split('/'))
        {
            var segment = path[range];
            if (segment.Length is 0 or > 6) continue; // longer than "%2E%2E": not a dot segment
            var decoded = segment.Contains('%') ? Uri.UnescapeDataString(segment.ToString()) : segment.ToString();
            if (decoded is "." or "..") return segment.ToString();
        }
        return null;
    }
}
