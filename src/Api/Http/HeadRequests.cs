namespace Orleans.Membership.Api.Http;

/// <summary>
/// RFC 9110: HEAD wherever GET is. The GET endpoint itself answers it, so keys, roles and limits apply the
/// same; Kestrel sends the status and headers and drops the body.
/// </summary>
public static class HeadRequests
{
    /// <summary>Every GET endpoint of <paramref name="builder"/> also takes HEAD.</summary>
    public static TBuilder AnswerHeadLikeGet<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            // Routing and the API description read the last method metadata.
            if (endpoint.Metadata.OfType<IHttpMethodMetadata>().LastOrDefault() is not { } methods
                || !methods.HttpMethods.Contains(HttpMethods.Get) || methods.HttpMethods.Contains(HttpMethods.Head)) return;
            endpoint.Metadata.Add(new HttpMethodMetadata([.. methods.HttpMethods, HttpMethods.Head], methods.AcceptCorsPreflight));
        });
        return builder;
    }
}
