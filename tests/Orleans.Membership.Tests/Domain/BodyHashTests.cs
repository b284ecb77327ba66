using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CsCheck;
using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Tests.Domain;

public sealed class BodyHashTests
{
    /// <summary>The fingerprint as it was first defined (and stored in ledgers): fields joined as text, then hashed.</summary>
    private static string Reference(params string?[] parts)
    {
        var text = string.Join("\u001f", parts.Select(p => p ?? "\u0000"));
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))[..12]);
    }

    [Fact]
    public void An_event_fingerprint_is_the_one_stored_ledgers_hold()
    {
        var text = Gen.OneOf(Gen.Const((string?)null), Gen.String.Select(s => (string?)s), Gen.String[200, 600].Select(s => (string?)s));
        var instant = Gen.OneOf(Gen.Const((DateTimeOffset?)null),
            Gen.Select(Gen.Long[0, DateTimeOffset.MaxValue.UtcTicks - TimeSpan.TicksPerDay], Gen.Int[-14 * 60, 14 * 60])
                .Select((ticks, minutes) => (DateTimeOffset?)new DateTimeOffset(ticks + TimeSpan.TicksPerDay / 2, TimeSpan.FromMinutes(minutes))));
        var money = Gen.OneOf(Gen.Const((decimal?)null), Gen.Decimal.Select(d => (decimal?)d), Gen.Long[0, 10_000_000].Select(n => (decimal?)(n / 100m)));
        Gen.Select(text, text, instant, money, text).Sample((type, orderId, at, amount, attributes) =>
        {
            var body = new BodyHash(stackalloc byte[256]);
            body.Add("event");
            body.Add(type);
            body.Add(at);
            body.Add(orderId);
            body.AddMoney(amount);
            body.Add(attributes);
            Assert.Equal(Reference("event", type, at?.ToString("O", CultureInfo.InvariantCulture), orderId,
                amount?.ToString("0.00", CultureInfo.InvariantCulture), attributes), body.Finish());
        });
    }

    [Fact]
    public void A_fingerprint_of_numbers_and_plain_fields_is_the_one_stored_ledgers_hold()
    {
        Gen.Select(Gen.Long, Gen.String, Gen.String.Array[0, 6]).Sample((points, reason, parts) =>
        {
            var body = new BodyHash(stackalloc byte[16]);
            body.Add("redeem");
            body.Add(points);
            body.Add(reason);
            Assert.Equal(Reference("redeem", points.ToString(CultureInfo.InvariantCulture), reason), body.Finish());
            Assert.Equal(Reference(parts), MemberRules.Hash(parts));
        });
    }
}
