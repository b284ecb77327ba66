using Orleans.Membership.Domain.Collections;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Domain.Programs;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Domain;

/// <summary>
/// A tier evaluation resumed from a cursor must give exactly what a replay from the first growth record
/// gives, whatever happened to the history (appends, late records, refunds, a copy of the list) and in
/// whatever order the instants come.
/// </summary>
public sealed class TierCursorTests
{
    public static TheoryData<string> Programs => new() { "default", "coffee-club" };

    [Theory]
    [MemberData(nameof(Programs))]
    public void Resumed_evaluations_equal_replays_from_the_start(string programId)
    {
        var program = programId == "default" ? TestPrograms.Default : TestPrograms.Coffee;
        var random = new Random(programId.Length);
        var start = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var rows = new RowList<GrowthRecord>();
        TierCursor? cursor = null;
        var last = start;
        var resumed = 0;
        for (var step = 0; step < 3000; step++)
        {
            var roll = random.Next(100);
            var seq = step + 1;
            if (roll < 70)
            {
                // The common case: a record at or after the newest one, days or months later.
                last = last.AddHours(random.Next(0, 24 * 45));
                rows.Add(new GrowthRecord(seq, last, random.Next(1, 900)));
            }
            else if (roll < 80 && rows.Count > 0)
            {
                // A late event: inserted before newer records.
                var at = start.AddHours(random.Next(0, (int)(last - start).TotalHours + 1));
                var i = rows.Count;
                while (i > 0 && rows[i - 1].OccurredAt > at) i--;
                rows.Insert(i, new GrowthRecord(seq, at, random.Next(1, 900)));
            }
            else if (roll < 88 && rows.Count > 0)
            {
                // A refund lowers one record's growth.
                var i = random.Next(rows.Count);
                rows[i] = rows[i].WithAmount(Math.Max(0, rows[i].Amount - random.Next(1, 500)));
            }
            else if (roll < 90)
            {
                // The same records in another list (a state rebuilt from storage): the cursor is not its.
                rows = rows.Copy();
            }

            // Mostly forward in time, sometimes an earlier instant (a statement or a late event's multiplier).
            var instant = random.Next(10) == 0
                ? start.AddHours(random.Next(0, (int)(last - start).TotalHours + 1))
                : last.AddHours(random.Next(0, 24 * 400));
            if (cursor is not null && cursor.AppliesTo(program, rows, start, instant) && cursor.Read > 0) resumed++;
            var expected = TierPolicy.Evaluate(program, (IReadOnlyList<GrowthRecord>)rows, start, instant);
            var actual = TierPolicy.Evaluate(program, rows, start, instant, ref cursor);
            Assert.Equal(expected, actual);
        }
        // The check above is only worth something if most evaluations did resume.
        Assert.True(resumed > 1000, $"only {resumed} evaluations resumed from a cursor");
    }

    [Fact]
    public void A_cursor_from_another_program_start_list_or_edit_is_not_used()
    {
        var start = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var rows = new RowList<GrowthRecord>();
        rows.Add(new GrowthRecord(1, start.AddDays(1), 3000));
        TierCursor? cursor = null;
        TierPolicy.Evaluate(TestPrograms.Coffee, rows, start, start.AddDays(2), ref cursor);
        Assert.NotNull(cursor);
        Assert.False(cursor.AppliesTo(TestPrograms.Default, rows, start, start.AddDays(2)));
        Assert.False(cursor.AppliesTo(TestPrograms.Coffee, rows, start.AddDays(-1), start.AddDays(2)));
        Assert.False(cursor.AppliesTo(TestPrograms.Coffee, rows, start, start)); // before the record it read
        Assert.False(cursor.AppliesTo(TestPrograms.Coffee, rows.Copy(), start, start.AddDays(2)));
        rows.Add(new GrowthRecord(2, start.AddDays(3), 1));
        Assert.True(cursor.AppliesTo(TestPrograms.Coffee, rows, start, start.AddDays(2)));
        rows[0] = rows[0].WithAmount(10);
        Assert.False(cursor.AppliesTo(TestPrograms.Coffee, rows, start, start.AddDays(2)));

        var other = TierPolicy.Evaluate(TestPrograms.Default, rows, start, start.AddDays(2), ref cursor);
        Assert.Equal(TierPolicy.Evaluate(TestPrograms.Default, (IReadOnlyList<GrowthRecord>)rows, start, start.AddDays(2)), other);

        // A record the cursor read, taken back (a failed write), and another appended in its place.
        rows.Add(new GrowthRecord(3, start.AddDays(4), 100_000));
        var withIt = TierPolicy.Evaluate(TestPrograms.Coffee, rows, start, start.AddDays(5), ref cursor);
        rows.RemoveLast();
        rows.Add(new GrowthRecord(4, start.AddDays(4), 1));
        var expected = TierPolicy.Evaluate(TestPrograms.Coffee, (IReadOnlyList<GrowthRecord>)rows, start, start.AddDays(5));
        Assert.NotEqual(withIt, expected);
        Assert.Equal(expected, TierPolicy.Evaluate(TestPrograms.Coffee, rows, start, start.AddDays(5), ref cursor));
    }
}
