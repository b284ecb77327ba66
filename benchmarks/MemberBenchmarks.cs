using System.Buffers;
using BenchmarkDotNet.Attributes;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Domain.Programs;

namespace Orleans.Membership.Benchmarks;

/// <summary>
/// The member's hot paths in-process, without Orleans or HTTP: what checkout's benefit check, one scoring
/// event and the ledger's encoding cost in time and allocation. A member as the load tests' seed leaves
/// it (three past orders and a sign-in) plus a festival's dozen events.
/// </summary>
[MemoryDiagnoser]
public class MemberBenchmarks
{
    private static readonly DateTimeOffset Now = new(2026, 11, 11, 4, 0, 0, TimeSpan.Zero);
    private MembershipProgram _program = null!;
    private MemberState _member = null!;
    /// <summary>Members as the setup leaves them, each taking one order per iteration (so none grows past its festival).</summary>
    private readonly MemberState[] _members = new MemberState[Invocations];
    private const int Invocations = 1024;
    private BenefitFacts _facts = null!;
    private Benefit _freeShipping = null!;
    private LedgerEntry _entry = null!;
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var json = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "programs", "default.json"));
        _program = ProgramCompiler.Compile("default", 1, json).Program!;
        _freeShipping = _program.BenefitsByCode["free-shipping"];
        _member = NewMember(out var entries);
        _entry = entries[^1];
        _facts = BenefitFacts.Of(_member, _program, MemberQueries.TierAt(_member, _program, Now), Now);
    }

    [IterationSetup(Target = nameof(ApplyOrder))]
    public void NewMembers()
    {
        for (var i = 0; i < _members.Length; i++) _members[i] = NewMember(out _);
        _next = 0;
    }

    private MemberState NewMember(out IReadOnlyList<LedgerEntry> entries)
    {
        var member = new MemberState();
        var w = new MemberWrite(member, _program, Now);
        MemberRules.ApplyEvent(w, new ScoringEvent("seed-o0", "order.paid", Now.AddDays(-400), "seed-o0", 1200m, null));
        MemberRules.ApplyEvent(w, new ScoringEvent("seed-o1", "order.paid", Now.AddDays(-200), "seed-o1", 640m, null));
        MemberRules.ApplyEvent(w, new ScoringEvent("seed-o2", "order.paid", Now.AddDays(-20), "seed-o2", 88m, null));
        MemberRules.ApplyEvent(w, new ScoringEvent("seed-s", "sign-in", Now.AddDays(-1), null, null, null));
        for (var i = 0; i < 12; i++) MemberRules.ApplyEvent(w, new ScoringEvent($"f{i}", i % 4 == 3 ? "sign-in" : "order.paid", Now.AddMinutes(-60 + i), i % 4 == 3 ? null : $"f{i}", i % 4 == 3 ? null : 99m + i, null));
        MemberRules.WriteDue(w);
        member.Fold(_program, Now);
        entries = w.Entries;
        return member;
    }

    /// <summary>Checkout's answer from the facts a member published (the co-hosted API's path).</summary>
    [Benchmark]
    public BenefitCheck BenefitCheck() => _facts.Check(_program, _freeShipping, Now);

    /// <summary>
    /// One festival order applied to a member as the grain applies it: what it needs from the ledger (a new
    /// event or order id a filter may wrongly think seen is confirmed unused), the rules and the fold of its
    /// entry, the fold after the write.
    /// </summary>
    [Benchmark, InvocationCount(Invocations)]
    public EventOutcome ApplyOrder()
    {
        var member = _members[_next++];
        var ev = new ScoringEvent("b-" + _next, "order.paid", Now, "b-" + _next, 129m, null);
        var recall = MemberRecall.ForEvents(member, _program, [ev], Now);
        if (recall.CallerIds.Count > 0) member.Recall(recall.CallerIds, []);
        if (recall.OrderIds.Count > 0) member.RecallOrders(recall.OrderIds, []);
        var w = new MemberWrite(member, _program, Now);
        var outcome = MemberRules.ApplyEvent(w, ev);
        member.Fold(_program, Now);
        return outcome;
    }

    /// <summary>An earn entry as the ledger stores it (compact JSON).</summary>
    [Benchmark]
    public int EncodeEntry()
    {
        _buffer.ResetWrittenCount();
        LedgerEntryJson.Encode(_entry, _buffer);
        return _buffer.WrittenCount;
    }
}
