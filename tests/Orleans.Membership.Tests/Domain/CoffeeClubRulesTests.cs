using Orleans.Membership.Domain.Members;
using Orleans.Membership.Domain.Programs;
using Orleans.Membership.Tests.Support;
using static Orleans.Membership.Tests.Support.MemberHarness;

namespace Orleans.Membership.Tests.Domain;

/// <summary>The second shipped program proves the range: stamps, 180-day points, lifetime tiers, member day.</summary>
public sealed class CoffeeClubRulesTests
{
    private static MemberHarness NewMember()
    {
        var m = new MemberHarness(TestPrograms.Coffee);
        m.Enroll();
        return m;
    }

    [Theory]
    [InlineData(9, 0)]
    [InlineData(10, 1)]
    [InlineData(25, 2)]
    public void Every_tenth_stamp_grants_one_free_drink(int orders, int drinks)
    {
        var m = NewMember();
        for (var i = 0; i < orders; i++) m.Paid($"c{i}", 30m, $"2026-11-{1 + i % 20:00}T09:{i:00}:00+08:00");
        var check = m.Check("free-drink");
        Assert.Equal(drinks, check.Remaining);
        Assert.Equal(drinks > 0, check.Entitled);
    }

    [Fact]
    public void A_free_drink_is_used_once_and_a_full_refund_takes_its_stamp_back()
    {
        var m = NewMember();
        for (var i = 0; i < 10; i++) m.Paid($"c{i}", 30m, $"2026-11-{1 + i:00}T09:00:00+08:00");
        Assert.Equal(WriteStatus.Applied, m.Use("free-drink").Status);
        var again = m.Use("free-drink");
        Assert.Equal((WriteStatus.Conflict, "quota"), (again.Status, again.Reason));

        m.Paid("c10", 30m, "2026-11-12T09:00:00+08:00");
        m.Refunded("c10", 30m, "2026-11-12T10:00:00+08:00");
        Assert.Equal(10, m.State.Counter("stamps"));
        m.Refunded("c9", 10m, "2026-11-12T11:00:00+08:00"); // partial: the stamp stays
        Assert.Equal(10, m.State.Counter("stamps"));
    }

    [Theory]
    [InlineData("2026-11-18T10:00:00+08:00", 60)] // Wednesday: 会员日
    [InlineData("2026-11-17T23:59:59+08:00", 30)] // Tuesday
    [InlineData("2026-11-18T00:00:00+08:00", 60)] // 2026-11-17T16:00Z is already Wednesday in Shanghai
    public void Wednesday_orders_earn_double_points(string at, long points)
    {
        var m = NewMember();
        m.Paid("c1", 30m, at);
        Assert.Equal(points, m.Balance);
    }

    [Fact]
    public void Points_expire_180_days_after_they_are_earned()
    {
        var m = NewMember();
        m.Paid("c1", 30m, "2026-06-01T09:00:00+08:00");
        var bucket = Assert.Single(m.State.Buckets);
        Assert.Equal(At("2026-06-01T09:00:00+08:00").AddDays(180), bucket.ExpiresAt);
        m.Now = bucket.ExpiresAt!.Value.AddTicks(-1);
        Assert.Equal(30, m.Balance);
        m.Now = bucket.ExpiresAt!.Value;
        Assert.Equal(0, m.Balance);
    }

    [Fact]
    public void Tiers_follow_lifetime_spend_and_never_expire()
    {
        var program = TestPrograms.Coffee;
        Assert.True(program.Qualifying.IsLifetime);
        Assert.Null(program.TierValidityMonths);
        Assert.Equal(3, program.Tiers.Count);

        var m = NewMember();
        var top = program.Tiers[^1];
        m.Paid("big", top.Threshold, "2020-01-01T10:00:00+08:00"); // one unit of growth per unit spent
        var tier = m.Tier();
        Assert.Equal(top.Code, tier.Tier.Code);
        Assert.Null(tier.ValidUntil);
        m.Now = At("2035-01-01T00:00:00+08:00");
        Assert.Equal(top.Code, m.Tier().Tier.Code);
    }

    [Fact]
    public void A_guest_gets_the_base_tiers_entitlements()
    {
        var guest = new MemberHarness(TestPrograms.Coffee);
        var check = guest.Check("free-drink");
        Assert.False(check.Entitled);
        Assert.Equal(0, check.Remaining); // the base tier has the benefit, a guest has no stamps
    }

    [Fact]
    public void A_guest_uses_what_the_base_tier_grants_and_becomes_a_member_then_and_a_refused_use_enrolls_nobody()
    {
        var guest = new MemberHarness(TestPrograms.Load("coffee")) { Now = At("2026-11-23T12:00:00+08:00") }; // a Monday
        Assert.Equal((WriteStatus.Conflict, "window"), (guest.Use("second-cup-half", "u0").Status, guest.Use("second-cup-half", "u0").Reason));
        Assert.False(guest.State.Enrolled);
        Assert.Empty(guest.Ledger);

        guest.Now = At("2026-11-25T12:00:00+08:00"); // member day
        Assert.True(guest.Check("second-cup-half").Entitled);
        var used = guest.Use("second-cup-half", "u1");
        Assert.Equal((WriteStatus.Applied, 0), (used.Status, used.Value!.Remaining));
        Assert.Equal(guest.Now, guest.Summary().JoinedAt);
        Assert.Equal("quota", guest.Use("second-cup-half", "u2").Reason);
        guest.Reload();
        Assert.Equal((true, guest.Now, 0), (guest.State.Enrolled, guest.Summary().JoinedAt, guest.Check("second-cup-half").Remaining));
    }

    [Fact]
    public void Default_events_are_unknown_to_the_coffee_club()
    {
        var m = NewMember();
        var outcome = m.Event("sign-in", "2026-11-20T10:00:00+08:00");
        Assert.Equal((EventStatus.Rejected, "type"), (outcome.Status, outcome.Field));
    }

    [Fact]
    public void Both_programs_differ_in_kind_not_just_in_numbers()
    {
        Assert.Equal(PointExpiryPolicy.DaysAfterEarning, TestPrograms.Coffee.PointExpiry.Policy);
        Assert.Equal(PointExpiryPolicy.EndOfYear, TestPrograms.Default.PointExpiry.Policy);
        Assert.Empty(TestPrograms.Coffee.Plans);
        Assert.Contains(TestPrograms.Coffee.Benefits, b => b.Period == QuotaPeriod.Lifetime && b.Grants.Any(g => g.EarnedBy is not null));
    }
}
