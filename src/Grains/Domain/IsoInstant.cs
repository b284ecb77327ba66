using System.Globalization;
using System.Text.RegularExpressions;

namespace Orleans.Membership.Domain;

/// <summary>
/// An instant as requests and program definitions write it: RFC 3339 with its offset
/// (<c>2026-11-11T00:00:05+08:00</c>, <c>...05.123456789Z</c>), <c>T</c> and <c>Z</c> in either case. A
/// .NET instant holds 100 ns ticks: digits past the 7th are truncated, as most engines store them.
/// </summary>
public static partial class IsoInstant
{
    public const string Rule = "must be an ISO-8601 instant with an offset: yyyy-MM-ddTHH:mm, optionally :ss and up to 9 decimals, " +
        "then Z or ±hh:mm, e.g. 2026-11-11T00:00:05+08:00 or 2026-11-11T00:00:05.123456789Z";

    /// <summary>The instant <paramref name="text"/> names, in UTC; false for anything but an instant with its offset.</summary>
    public static bool TryRead(string text, out DateTimeOffset instant)
    {
        instant = default;
        var match = Pattern().Match(text);
        if (!match.Success) return false;
        // The dot and 7 digits: a tick. The parser takes at most that, and T and Z upper case only.
        var canonical = match.Groups["fraction"].Length <= 8 && !text.AsSpan().ContainsAny('t', 'z') ? text : Canonical(match);
        if (!DateTimeOffset.TryParse(canonical, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed)) return false;
        instant = parsed.ToUniversalTime();
        return true;
    }

    private static string Canonical(Match match)
    {
        var fraction = match.Groups["fraction"].Value;
        if (fraction.Length > 8) fraction = fraction[..8];
        return $"{match.Groups["date"].Value}T{match.Groups["time"].Value}{match.Groups["seconds"].Value}{fraction}{match.Groups["offset"].Value.ToUpperInvariant()}";
    }

    // \A and \z, not ^ and $: $ also matches before a final newline. [0-9], not \d: \d takes any script's digits.
    [GeneratedRegex(@"\A(?<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt](?<time>[0-9]{2}:[0-9]{2})(?:(?<seconds>:[0-9]{2})(?<fraction>\.[0-9]{1,9})?)?(?<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
