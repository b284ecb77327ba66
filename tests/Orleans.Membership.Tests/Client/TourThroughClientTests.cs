using Orleans.Membership.Client;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Client;

/// <summary>The README's tour (scripts/tour.py) through the typed client, against a real node.</summary>
public sealed class TourThroughClientTests(NodeFixture node) : IClassFixture<NodeFixture>
{
    private const string P = "default";
    private static readonly TimeSpan Shanghai = TimeSpan.FromHours(8);

    [Fact]
    public async Task The_tour_runs_through_the_typed_client()
    {
        var api = new MembershipClient(node.Http);
        var nowLocal = DateTimeOffset.UtcNow.ToOffset(Shanghai);
        var member = "tour-" + Guid.NewGuid().ToString("N")[..8];
        var birthMonth = (nowLocal.Month + 5) % 12 + 1; // never this month: no birthday doubling today
        var twoYearsAgo = new DateTimeOffset(nowLocal.Year - 2, 6, 1, 10, 0, 0, Shanghai);
        var bucketEnd = new DateTimeOffset(nowLocal.Year + 2, 1, 1, 0, 0, 0, Shanghai);

        Assert.True((await api.EnrollAsync(P, member, $"{birthMonth:00}-15")).Created);
        Assert.False((await api.EnrollAsync(P, member, $"{birthMonth:00}-15")).Created);

        EventBody[] batch =
        [
            new("o-old-paid", member, "order.paid", OccurredAt: twoYearsAgo, OrderId: "o-old", Amount: 100.00m),
            new("o-1-paid", member, "order.paid", OrderId: "o-1", Amount: 259.00m),
            new("s-1", member, "sign-in"),
            new("s-2", member, "sign-in"),
        ];
        var sent = await api.SendEventsAsync(P, batch);
        Assert.Equal((4, 0, 0), (sent.Accepted, sent.Duplicates, sent.Rejected.Count));
        var again = await api.SendEventsAsync(P, batch);
        Assert.Equal((0, 4), (again.Accepted, again.Duplicates));

        var s = (await api.GetMemberAsync(P, member))!;
        Assert.Equal("silver", s.Tier.Code);
        Assert.Equal((500 + 1295 + 10, 1295 + 10), (s.Growth.Lifetime, s.Growth.Qualifying));
        Assert.Equal(259 + 5, s.Points.Balance); // the bucket of two years ago has expired

        Assert.Equal(1, (await api.SendEventsAsync(P, [new("o-1-refund-1", member, "order.refunded", OrderId: "o-1", Amount: 59.00m)])).Accepted);
        var over = await api.SendEventsAsync(P, [new("o-1-refund-2", member, "order.refunded", OrderId: "o-1", Amount: 200.01m)]);
        Assert.Equal((0, "events[0].amount"), (over.Accepted, over.Rejected.Single().Field)); // the client always sends a batch
        s = (await api.GetMemberAsync(P, member))!;
        Assert.Equal(("silver", 500 + 1000 + 10L, 1010L, 200 + 5L), (s.Tier.Code, s.Growth.Lifetime, s.Growth.Qualifying, s.Points.Balance));

        var shipping = await api.CheckBenefitAsync(P, member, "free-shipping");
        Assert.Equal((true, (int?)2, "tier:silver"), (shipping.Entitled, shipping.Remaining, shipping.Sources.Single()));
        var price = await api.CheckBenefitAsync(P, member, "member-price");
        Assert.Equal((false, "tier"), (price.Entitled, price.Reason));
        Assert.Equal(1, (await api.UseBenefitAsync(P, member, "free-shipping", "use-1", "o-2")).Remaining);
        Assert.Equal(0, (await api.UseBenefitAsync(P, member, "free-shipping", "use-2", "o-3")).Remaining);
        var quota = await Assert.ThrowsAsync<MembershipApiException>(() => api.UseBenefitAsync(P, member, "free-shipping", "use-3"));
        Assert.Equal((409, "quota"), (quota.Status, quota.Reason));
        Assert.Equal(1, (await api.UseBenefitAsync(P, member, "free-shipping", "use-1", "o-2")).Remaining); // replayed: the first answer

        var redeemed = await api.RedeemPointsAsync(P, member, "r-1", 100, "coupon-10");
        Assert.Equal(105, redeemed.Balance);
        Assert.Equal((bucketEnd, 100L), (redeemed.Consumed.Single().ExpiresAt!.Value, redeemed.Consumed.Single().Points));
        var balance = await Assert.ThrowsAsync<MembershipApiException>(() => api.RedeemPointsAsync(P, member, "r-2", 1000));
        Assert.Equal((409, "balance"), (balance.Status, balance.Reason));

        var trial = await api.ChangeSubscriptionAsync(P, member, new SubscriptionBody("sub-1", "plus", "trial"));
        Assert.Equal("trial", trial.Status);
        var second = await Assert.ThrowsAsync<MembershipApiException>(() => api.ChangeSubscriptionAsync(P, member, new SubscriptionBody("sub-1b", "plus", "trial")));
        Assert.Equal((409, "trial-used"), (second.Status, second.Reason));
        var bought = await api.ChangeSubscriptionAsync(P, member, new SubscriptionBody("sub-2", "plus", "purchase", "P1Y"));
        var plus = (await api.GetPlansAsync(P, member)).Plans.Single();
        Assert.Equal(("plus", "P1M,P1Y", false, "active"), (plus.Code, string.Join(",", plus.Terms.Select(t => t.Term)), plus.TrialAvailable, plus.Subscription!.Status));
        Assert.Equal(("active", trial.ExpiresAt!.Value.AddYears(1)), (bought.Status, bought.ExpiresAt!.Value));
        price = await api.CheckBenefitAsync(P, member, "member-price");
        Assert.Equal((true, (decimal?)0.95m, "plan:plus"), (price.Entitled, price.Value, price.Sources.Single()));
        Assert.Null((await api.CheckBenefitAsync(P, member, "free-shipping")).Remaining);

        var page = (await api.GetLedgerAsync(P, member, limit: 1000))!;
        s = (await api.GetMemberAsync(P, member))!;
        Assert.Equal(s.Points.Balance, page.Entries.Sum(e => e.Points));
        Assert.Equal(["benefit-use", "clawback", "earn", "enroll", "expire", "redeem", "subscription", "tier"], page.Entries.Select(e => e.Kind).Distinct().Order());

        Assert.Null(await api.GetMemberAsync(P, "never-seen-" + member));
        var invalid = await Assert.ThrowsAsync<MembershipApiException>(() => api.EnrollAsync(P, member, "13-45"));
        Assert.Equal(400, invalid.Status);
        Assert.True(invalid.Errors.ContainsKey("birthday"));
    }
}
