using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Domain.Members;

/// <summary>Calendar arithmetic in a program's time zone: days, months, years, expiries, quota periods.</summary>
public static class ProgramCalendar
{
    public const string LifetimePeriod = "life";

    public static DateTime Local(this MembershipProgram program, DateTimeOffset instant)
        => TimeZoneInfo.ConvertTimeFromUtc(instant.UtcDateTime, program.TimeZone);

    /// <summary>
    /// The UTC instant of a local wall-clock time in the program's zone. A time the clocks skip (00:00 where
    /// they jump to 01:00) is the instant of the jump: that day starts when its clocks do.
    /// </summary>
    public static DateTimeOffset FromLocal(this MembershipProgram program, DateTime local)
    {
        var unspecified = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        // The zone's offset for a skipped time is its standard one, in force before the jump: read with it,
        // 00:00 is the jump's instant (00:00+02 = 01:00+03). A repeated time takes the standard offset too.
        return new DateTimeOffset(unspecified, program.TimeZone.GetUtcOffset(unspecified)).ToUniversalTime();
    }

    public static string DayKey(this MembershipProgram program, DateTimeOffset instant)
    {
        var local = program.Local(instant);
        return Cached(ref t_dayKey, (local.Year * 100 + local.Month) * 100 + local.Day, local, "yyyy-MM-dd");
    }

    public static string PeriodKey(this MembershipProgram program, QuotaPeriod period, DateTimeOffset instant)
    {
        if (period == QuotaPeriod.Lifetime) return LifetimePeriod;
        if (period == QuotaPeriod.Day) return program.DayKey(instant);
        var local = program.Local(instant);
        if (period != QuotaPeriod.Month) return local.Year.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Cached(ref t_monthKey, local.Year * 100 + local.Month, local, "yyyy-MM");
    }

    // Nearly every event and check of a day names the same day and month: each thread keeps the last key
    // it wrote (a string per event and per check otherwise).
    private sealed record CachedKey(int Key, string Text);

    [ThreadStatic] private static CachedKey? t_dayKey;
    [ThreadStatic] private static CachedKey? t_monthKey;

    private static string Cached(ref CachedKey? last, int key, DateTime local, string format)
    {
        if (last is { } known && known.Key == key) return known.Text;
        var text = local.ToString(format, System.Globalization.CultureInfo.InvariantCulture);
        last = new CachedKey(key, text);
        return text;
    }

    /// <summary>Start of the next quota period after <paramref name="instant"/>; null for lifetime.</summary>
    public static DateTimeOffset? NextPeriodStart(this MembershipProgram program, QuotaPeriod period, DateTimeOffset instant)
    {
        var local = program.Local(instant);
        return period switch
        {
            QuotaPeriod.Day => program.FromLocal(local.Date.AddDays(1)),
            QuotaPeriod.Month => program.FromLocal(new DateTime(local.Year, local.Month, 1).AddMonths(1)),
            QuotaPeriod.Year => program.FromLocal(new DateTime(local.Year + 1, 1, 1)),
            _ => null,
        };
    }

    /// <summary>When a bucket earned at <paramref name="earnedAt"/> expires (exclusive); null: never.</summary>
    public static DateTimeOffset? BucketExpiry(this MembershipProgram program, DateTimeOffset earnedAt)
    {
        var policy = program.PointExpiry;
        return policy.Policy switch
        {
            PointExpiryPolicy.EndOfYear => program.FromLocal(new DateTime(program.Local(earnedAt).Year + policy.YearsAfter + 1, 1, 1)),
            PointExpiryPolicy.DaysAfterEarning => earnedAt.AddDays(policy.Days).ToUniversalTime(),
            _ => null,
        };
    }

    /// <summary>The start (00:00 local) of the first local day that starts after <paramref name="instant"/>.</summary>
    public static DateTimeOffset NextDayStart(this MembershipProgram program, DateTimeOffset instant)
    {
        var date = program.Local(instant).Date;
        var next = program.FromLocal(date.AddDays(1));
        // A zone that skipped a whole date (Pacific/Apia, 2011-12-30) reads it before the jump: the day after is next.
        return next > instant ? next : program.FromLocal(date.AddDays(2));
    }

    /// <summary>
    /// When a tier reached at <paramref name="since"/> ends and is re-graded: <c>tierValidity</c> months later,
    /// or at the next calendar re-grade (00:00 local on <c>regrade.dayOfMonth</c>) strictly after it; null: never.
    /// </summary>
    public static DateTimeOffset? TierValidUntil(this MembershipProgram program, DateTimeOffset since)
    {
        if (program.TierValidityMonths is { } months) return since.AddMonths(months);
        if (program.RegradeDayOfMonth is not { } day) return null;
        var local = program.Local(since);
        var candidate = program.FromLocal(new DateTime(local.Year, local.Month, day));
        return candidate > since ? candidate : program.FromLocal(new DateTime(local.Year, local.Month, day).AddMonths(1));
    }

    public static bool IsBirthdayMonth(this MembershipProgram program, int? birthMonth, DateTimeOffset instant)
        => birthMonth is { } m && program.Local(instant).Month == m;
}
