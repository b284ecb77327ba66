using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Grains;
using Orleans.Runtime;

namespace Orleans.Membership.Api.Http;

/// <summary>The API's one error shape: RFC 7807 problem details with field paths and a <c>reason</c>.</summary>
public static class Problems
{
    public static ProblemHttpResult Validation(Dictionary<string, string[]> errors, string? detail = null)
    {
        var problem = new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request is invalid",
            Detail = detail ?? string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")),
        };
        return TypedResults.Problem(problem);
    }

    public static ProblemHttpResult Validation(string field, string message)
        => Validation(new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>A detail for the errors the framework answers without one: no endpoint at a path, or not for its method.</summary>
    public static string FrameworkDetail(HttpContext http, int? status) => status switch
    {
        StatusCodes.Status404NotFound => $"no endpoint answers {http.Request.Path}: /openapi/v1.json lists every path of the API (beside it: {string.Join(", ", Served(http, Beside))})",
        StatusCodes.Status405MethodNotAllowed => $"{http.Request.Path} does not take {http.Request.Method}; it takes {http.Response.Headers.Allow}",
        _ => "docs/api.md, Errors, says what each status means",
    };

    /// <summary>Paths the OpenAPI document leaves out; a process serves those its role and settings map (the dashboard only on a silo).</summary>
    private static readonly string[] Beside = ["/health/live", "/health/ready", "/metrics", "/dashboard"];

    private static IEnumerable<string> Served(HttpContext http, string[] paths)
    {
        var patterns = http.RequestServices.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>().Select(e => "/" + (e.RoutePattern.RawText ?? "").TrimStart('/')).ToList();
        return paths.Where(path => patterns.Any(p => p == path || p.StartsWith(path + "/", StringComparison.Ordinal)));
    }

    public static ProblemHttpResult Conflict(string reason, string detail)
    {
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status409Conflict,
            Title = "The request conflicts with the member's state",
            Detail = detail,
        };
        problem.Extensions["reason"] = reason;
        return TypedResults.Problem(problem);
    }

    public static ProblemHttpResult NotFound(string detail)
        => TypedResults.Problem(new ProblemDetails { Status = StatusCodes.Status404NotFound, Title = "Not found", Detail = detail });

    /// <summary>The Retry-After of every 503, in seconds: long enough not to hammer a store that is coming back.</summary>
    public const string RetryAfterSeconds = "2";

    public static ProblemHttpResult Unavailable(string detail, string title = "The store is unavailable")
        => TypedResults.Problem(new ProblemDetails { Status = StatusCodes.Status503ServiceUnavailable, Title = title, Detail = detail });

    public static ProblemHttpResult UnsupportedMediaType(string? contentType) => TypedResults.Problem(new ProblemDetails
    {
        Status = StatusCodes.Status415UnsupportedMediaType,
        Title = "The body must be JSON",
        Detail = $"send the body as Content-Type: application/json (or application/*+json; UTF-8 is the only charset), not {(string.IsNullOrEmpty(contentType) ? "without a content type" : $"'{contentType}'")}",
    });

    public static ProblemHttpResult TooLarge(long? limit) => TypedResults.Problem(new ProblemDetails
    {
        Status = StatusCodes.Status413PayloadTooLarge,
        Title = "The body is too large",
        Detail = limit is { } bytes
            ? $"this endpoint takes bodies of at most {bytes} bytes (docs/api.md, Request bodies); split a batch into smaller ones"
            : "the body is larger than this endpoint takes (docs/api.md, Request bodies)",
    });

    /// <summary>
    /// The answer for an error a request ended with, or null for an unexpected one (a 500). Transient
    /// states of the store or the cluster are 503s: the client should retry, and with the same ids that is
    /// safe (whatever was applied comes back as a duplicate). Cluster internals (silo addresses) stay in
    /// the node's log, out of the answer.
    /// </summary>
    public static ProblemHttpResult? ForError(Exception? error) => Unwrap(error) switch
    {
        // The store's own words (host, port) stay in the node's log.
        LedgerUnavailableException or StoreUnavailableException => Unavailable(
            "the engine's database cannot be reached now. What failed was not applied; retry the same request with the same ids " +
            "(in a batch, events that were applied for other members count as duplicates)"),
        // A silo left or is joining: the call did not reach the member, or its silo died under it.
        OrleansMessageRejectionException => Unavailable(
            "the cluster could not reach the member (a silo left or is joining). Retry the same request with the same ids: " +
            "what was applied before the failure counts as a duplicate", "The cluster is changing"),
        TimeoutException => Unavailable(
            "the member did not answer in time. It may or may not have applied the request: retry the same request with the same ids, " +
            "and what was applied counts as a duplicate", "The member did not answer in time"),
        ProgramNotFoundException e => NotFound(e.Message),
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => TooLarge(null),
        BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest } e => Validation("$", e.Message),
        BadHttpRequestException e => TypedResults.Problem(new ProblemDetails { Status = e.StatusCode, Title = "The request could not be read", Detail = e.Message }),
        _ => null,
    };

    /// <summary>The error itself, or the store failure inside it when a wrapper (an aggregate, a runtime exception) carries one.</summary>
    private static Exception? Unwrap(Exception? error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is LedgerUnavailableException or StoreUnavailableException) return e;
        }
        var outer = error;
        while (outer is AggregateException { InnerException: { } inner }) outer = inner;
        return outer;
    }
}
