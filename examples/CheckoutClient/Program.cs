using Orleans.Membership.Client;

// A checkout system's calls through the typed client: an order paid, then at the next checkout the
// member's free shipping checked and used (once per order, whatever the retries).
//   dotnet run --project examples/CheckoutClient -- [baseUrl] [apiKey]
// With API keys configured, give a key holding both the ingest and checkout roles (or admin).
var baseUrl = args.Length > 0 ? args[0] : "http://127.0.0.1:5080";
var apiKey = args.Length > 1 ? args[1] : null;
using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(10) };
var membership = new MembershipClient(http, apiKey);
const string program = "default";
var member = "example-" + Guid.NewGuid().ToString("N")[..8];

// The order system reports a paid order (1,200.00: enough growth for gold).
var sent = await membership.SendEventsAsync(program, [new EventBody($"{member}-o1-paid", member, "order.paid", OrderId: $"{member}-o1", Amount: 1200.00m)]);
Console.WriteLine($"events: {sent.Accepted} accepted, {sent.Duplicates} duplicate(s), {sent.Rejected.Count} rejected");

var summary = await membership.GetMemberAsync(program, member);
Console.WriteLine($"{member}: tier {summary!.Tier.Code}, {summary.Points.Balance} points");

// Checkout: is shipping free, and if so use it for this order. The use id is the order's: a retry
// after a timeout is answered with the first result, never a second use.
var shipping = await membership.CheckBenefitAsync(program, member, "free-shipping");
if (!shipping.Entitled)
{
    Console.WriteLine($"free shipping: not entitled ({shipping.Reason})");
    return;
}
try
{
    var after = await membership.UseBenefitAsync(program, member, "free-shipping", useId: $"{member}-o2-shipping", orderId: $"{member}-o2");
    Console.WriteLine($"free shipping used; {after.Remaining?.ToString() ?? "unlimited"} left this period");
}
catch (MembershipApiException e) when (e.Status == 409)
{
    Console.WriteLine($"free shipping refused: {e.Reason}");
}
catch (MembershipApiException e) when (e.Status is 429 or 503)
{
    Console.WriteLine($"busy ({e.Title}): retry the same use after {e.RetryAfter?.TotalSeconds ?? 1} s");
}
