using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

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

    public static ProblemHttpResult Unavailable(string detail)
        => TypedResults.Problem(new ProblemDetails { Status = StatusCodes.Status503ServiceUnavailable, Title = "The store is unavailable", Detail = detail });
}
