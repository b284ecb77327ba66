using System.Text;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Grains;
using static Orleans.Membership.Tests.Support.LedgerSamples;

namespace Orleans.Membership.Tests.Domain;

/// <summary>The embedded ledger keeps entries encoded: every field must come back as it went in.</summary>
public sealed class InMemoryLedgerTests
{
    [Fact]
    public void Every_field_of_an_entry_survives_the_encoding()
    {
        var entry = Populated(seq: 1);
        var decoded = LedgerEntryJson.Decode(LedgerEntryJson.Encode(entry));
        // Compared through the engine's full JSON shape (nulls and defaults written), so a field the
        // compact encoding dropped shows as a difference, and lists/maps compare by content.
        Assert.Equal(Full(entry), Full(decoded));
        Assert.Equal(Full(new LedgerEntry { Kind = LedgerKinds.Tier }), Full(LedgerEntryJson.Decode(LedgerEntryJson.Encode(new LedgerEntry { Kind = LedgerKinds.Tier }))));
    }

    [Fact]
    public void Encoding_into_a_buffer_appends_the_same_bytes_as_encoding_to_an_array()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        LedgerEntryJson.Encode(Populated(seq: 1), buffer);
        LedgerEntryJson.Encode(new LedgerEntry { Kind = LedgerKinds.Tier }, buffer);
        Assert.Equal(LedgerEntryJson.Encode(Populated(seq: 1)).Concat(LedgerEntryJson.Encode(new LedgerEntry { Kind = LedgerKinds.Tier })), buffer.WrittenSpan.ToArray());
    }

    [Fact]
    public async Task Appends_from_many_threads_at_once_read_back_per_member_in_seq_order()
    {
        // Small pages, so the threads' stripes keep adding pages while the others write; the appends
        // complete at once, so each thread runs a tight loop of them.
        var ledger = new InMemoryMemberLedger(pageBytes: 4096);
        var members = Enumerable.Range(0, 8).Select(i => $"m{i}").ToArray();
        const int Entries = 4000;
        Parallel.ForEach(members, new ParallelOptions { MaxDegreeOfParallelism = 8 }, member =>
        {
            for (var seq = 1; seq <= Entries; seq += 2)
            {
                var pair = new[] { Populated(seq) with { Note = $"{member}/{seq}" }, Populated(seq + 1) with { Note = $"{member}/{seq + 1}" } };
                ledger.AppendAsync(member, pair).GetAwaiter().GetResult();
            }
        });
        foreach (var member in members)
        {
            var read = await ledger.ReadAfterAsync(member, 0);
            Assert.Equal(Enumerable.Range(1, Entries).Select(seq => $"{member}/{seq}"), read.Select(e => e.Note));
            Assert.Equal(Full(Populated(Entries) with { Note = $"{member}/{Entries}" }), Full(read[^1]));
        }
    }

    [Fact]
    public async Task A_batch_larger_than_what_a_thread_keeps_for_encoding_reads_back_and_so_do_the_appends_after_it()
    {
        // 40 entries (past the stack's share) of 5 KB each (past the encoding buffer a thread keeps).
        var ledger = new InMemoryMemberLedger();
        var big = Enumerable.Range(1, 40).Select(seq => Populated(seq) with { Note = new string((char)('a' + seq % 26), 5_000) }).ToList();
        await ledger.AppendAsync("m", big);
        await ledger.AppendAsync("m", [Populated(41)]);
        Assert.Equal(big.Append(Populated(41)).Select(Full), (await ledger.ReadAfterAsync("m", 0)).Select(Full));
    }

    [Fact]
    public async Task Pages_and_replays_return_the_entries_by_seq()
    {
        var ledger = new InMemoryMemberLedger();
        await ledger.AppendAsync("m", [Populated(1), Populated(2)]);
        await ledger.AppendAsync("m", [Populated(3)]);
        await Assert.ThrowsAsync<InvalidOperationException>(() => ledger.AppendAsync("m", [Populated(5)]));

        Assert.Equal([2L, 3L], (await ledger.ReadAfterAsync("m", 1)).Select(e => e.Seq));
        Assert.Equal([3L, 2L], (await ledger.ReadPageAsync("m", null, 2)).Select(e => e.Seq));
        Assert.Equal([1L], (await ledger.ReadPageAsync("m", 2, 10)).Select(e => e.Seq));
        Assert.Equal(Full(Populated(3)), Full((await ledger.ReadAfterAsync("m", 2)).Single()));
        Assert.Empty(await ledger.ReadAfterAsync("other", 0));

        await ledger.EraseAsync("m");
        Assert.Empty(await ledger.ReadPageAsync("m", null, 10));
        await ledger.AppendAsync("m", [Populated(1)]);
        Assert.Single(await ledger.ReadAfterAsync("m", 0));
    }

    [Fact]
    public async Task Members_sharing_small_pages_read_back_their_own_entries_and_an_entry_larger_than_a_page_gets_one_of_its_own()
    {
        // A page holds three and a half entries and each append is two, so the members' entries interleave
        // on shared pages, appends cross into new pages, and most entries start inside a page.
        var entryBytes = LedgerEntryJson.Encode(Populated(99) with { Note = "a-99'" }).Length;
        var ledger = new InMemoryMemberLedger(pageBytes: entryBytes * 7 / 2);
        var written = new Dictionary<string, List<LedgerEntry>> { ["a"] = [], ["b"] = [], ["c"] = [] };
        for (var seq = 1; seq <= 40; seq++)
        {
            foreach (var (member, entries) in written)
            {
                var batch = new List<LedgerEntry> { Populated(seq * 2 - 1) with { Note = $"{member}-{seq}" }, Populated(seq * 2) with { Note = $"{member}-{seq}'" } };
                if (member == "c" && seq == 20) batch[1] = batch[1] with { Note = new string('x', 5_000) };
                await ledger.AppendAsync(member, batch);
                entries.AddRange(batch);
            }
        }

        foreach (var (member, entries) in written)
        {
            Assert.Equal(entries.Select(Full), (await ledger.ReadAfterAsync(member, 0)).Select(Full));
            Assert.Equal(entries.AsEnumerable().Reverse().Take(7).Select(Full), (await ledger.ReadPageAsync(member, null, 7)).Select(Full));
        }
        var pages = written.Keys.SelectMany(ledger.PagesOf).Distinct().ToList();
        Assert.InRange(pages.Count, 3 * 80 / 3, 3 * 80 / 3 + 10);
        Assert.Contains(pages, page => ledger.PageBytes(page).Length > 5_000);
        Assert.True(ledger.PagesOf("a").Intersect(ledger.PagesOf("b")).Any(), "members share pages");
    }

    [Fact]
    public async Task Erasing_a_member_zeroes_its_bytes_in_the_shared_pages_and_leaves_the_others_intact()
    {
        var ledger = new InMemoryMemberLedger(pageBytes: 4_000);
        for (var seq = 1; seq <= 20; seq++)
        {
            await ledger.AppendAsync("erased", [Populated(seq) with { Note = $"secret-{seq:D2}" }]);
            await ledger.AppendAsync("kept", [Populated(seq) with { Note = $"public-{seq:D2}" }]);
        }
        var kept = await ledger.ReadAfterAsync("kept", 0);
        // The two members' entries alternate, so the kept member's pages are the erased member's too.
        var shared = ledger.PagesOf("erased").Intersect(ledger.PagesOf("kept")).Count();
        Assert.Equal(ledger.PagesOf("erased").Count, shared);

        await ledger.EraseAsync("erased");

        Assert.Empty(await ledger.ReadAfterAsync("erased", 0));
        Assert.Equal(kept.Select(Full), (await ledger.ReadAfterAsync("kept", 0)).Select(Full));
        var pages = ledger.PagesOf("kept").Select(p => Encoding.UTF8.GetString(ledger.PageBytes(p))).ToList();
        Assert.DoesNotContain(pages, p => p.Contains("secret-", StringComparison.Ordinal));
        Assert.Equal(20, pages.Sum(p => CountOf(p, "public-")));

        // The member can start again from seq 1, and its new entries are readable like anyone's.
        await ledger.AppendAsync("erased", [Populated(1) with { Note = "again" }]);
        Assert.Equal("again", Assert.Single(await ledger.ReadAfterAsync("erased", 0)).Note);
    }

    private static int CountOf(string text, string part)
    {
        var n = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + 1, StringComparison.Ordinal)) n++;
        return n;
    }
}
