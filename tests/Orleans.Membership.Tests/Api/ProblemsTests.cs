using Orleans.Membership.Abstractions;
using Orleans.Membership.Api.Http;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Grains;
using Orleans.Runtime;

namespace Orleans.Membership.Tests.Api;

/// <summary>What a client is told when a request ends with an error: transient states are 503s to retry.</summary>
public sealed class ProblemsTests
{
    public static TheoryData<Exception, int, string> Errors => new()
    {
        { new LedgerUnavailableException("the ledger database cannot take writes: Failed to connect to 127.0.0.1:5432"), 503, "The store is unavailable" },
        { new StoreUnavailableException("the member-snapshots storage cannot read now: Failed to connect to 127.0.0.1:5432"), 503, "The store is unavailable" },
        { new OrleansException("activation failed", new StoreUnavailableException("the programs storage cannot read now: 127.0.0.1:5432")), 503, "The store is unavailable" },
        { new Microsoft.AspNetCore.Http.BadHttpRequestException("Request body too large.", 413), 413, "The body is too large" },
        { new SiloUnavailableException("silo S127.0.0.1:11111 is unavailable"), 503, "The cluster is changing" },
        { new AggregateException(new SiloUnavailableException("silo S127.0.0.1:11112 is gone")), 503, "The cluster is changing" },
        { new TimeoutException("response did not arrive on time in 00:00:30"), 503, "The member did not answer in time" },
        { new ProgramNotFoundException("nope"), 404, "Not found" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Each_error_gets_its_status_and_title_and_a_503_says_to_retry(Exception error, int status, string title)
    {
        var result = Problems.ForError(error);
        Assert.NotNull(result);
        Assert.Equal(status, result.StatusCode);
        Assert.Equal(title, result.ProblemDetails.Title);
        if (status == 503) Assert.Contains("retry the same request with the same ids", result.ProblemDetails.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("127.0.0.1", result.ProblemDetails.Detail);
    }

    [Fact]
    public void An_unexpected_error_is_left_to_the_500_handler()
    {
        Assert.Null(Problems.ForError(new InvalidOperationException("a bug")));
        Assert.Null(Problems.ForError(null));
    }
}
