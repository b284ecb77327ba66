using Orleans.Membership.Domain;

namespace Orleans.Membership.Tests.Domain;

public sealed class IsoInstantTests
{
    [Theory]
    [InlineData("2026-12-06T07:40:00.123456789Z", "2026-12-06T07:40:00.1234567+00:00")]
    [InlineData("2026-12-06T07:40:00.12345678+08:00", "2026-12-05T23:40:00.1234567+00:00")]
    [InlineData("2026-12-06T07:40:00.999999999Z", "2026-12-06T07:40:00.9999999+00:00")]
    [InlineData("2026-12-01t10:00:00z", "2026-12-01T10:00:00.0000000+00:00")]
    [InlineData("2026-12-01T10:00:00.5z", "2026-12-01T10:00:00.5000000+00:00")]
    [InlineData("2026-12-01t10:00+08:00", "2026-12-01T02:00:00.0000000+00:00")]
    [InlineData("2026-11-11T00:00:05+08:00", "2026-11-10T16:00:05.0000000+00:00")]
    public void Takes_up_to_nine_decimals_truncated_to_ticks_and_T_and_Z_in_either_case(string text, string utc)
    {
        Assert.True(IsoInstant.TryRead(text, out var instant));
        Assert.Equal((utc, TimeSpan.Zero), (instant.ToString("O"), instant.Offset));
    }

    [Theory]
    [InlineData("2026-12-01T10:00:00")]
    [InlineData("2026-12-01T10:00:00.123")]
    [InlineData("2026-12-01T10:00:00.1234567890Z")]
    [InlineData("2026-12-01T10:00.5Z")]
    [InlineData("2026-12-01T10:00:00.Z")]
    [InlineData("2026-12-01 10:00:00Z")]
    [InlineData("2026-12-01T10:00:00+0800")]
    [InlineData("2026-12-01T24:00:00Z")]
    [InlineData("2026-12-01T10:00:00Z\n")]
    [InlineData("2026-12-01")]
    public void Refuses_anything_without_an_offset_or_past_nine_decimals(string text)
        => Assert.False(IsoInstant.TryRead(text, out _));
}
