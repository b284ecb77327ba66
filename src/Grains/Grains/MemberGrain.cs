using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Domain.Programs;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace Orleans.Membership.Grains;

/// <summary>
/// A member in memory. Every write runs the pure rules, which fold their entries into the member's one
/// state in place, and appends the entries to the ledger; until the append is done nothing reads the
/// state (interleaved reads wait for it), and if it fails the entries are taken back out, so a failed
/// write leaves the member exactly as it was. Checkout on other threads reads the immutable
/// <see cref="BenefitFacts"/> the grain publishes to the <see cref="MemberReadModel"/>. Scoring events
/// arrive by HTTP (through <see cref="IMemberGrain.ApplyEvents"/>) or on the member's
/// <see cref="ScoringStreams"/> stream; both take the same path.
/// </summary>
[ImplicitStreamSubscription(ScoringStreams.Namespace)]
public sealed class MemberGrain(
    [PersistentState("snapshot", StorageNames.Snapshots)] IPersistentState<MemberSnapshot> snapshot,
    IMemberLedger ledger,
    ProgramCatalog programs,
    MemberReadModel readModel,
    TimeProvider clock,
    IOptions<MemberPersistenceOptions> persistence,
    StreamIngestStats streamStats,
    IDueIndex dueIndex,
    ILogger<MemberGrain> logger)
    : Grain, IMemberGrain, IStreamSubscriptionObserver, IAsyncBatchObserver<ScoringEvent>
{
    /// <summary>Ledger rows after the last snapshot that make the next write take a snapshot, at the least.</summary>
    public const int SnapshotEvery = 256;

    /// <summary>
    /// The rows after the last snapshot that make this member's next write take one: <see cref="SnapshotEvery"/>
    /// plus a share of it that depends on the member key (0 to SnapshotEvery - 1). Members written at the same
    /// pace (a festival spreads its events evenly) would otherwise all cross the same count in the same
    /// seconds and snapshot together: ten thousand copies of whole histories at once stalled the node.
    /// </summary>
    public static int SnapshotAfter(string memberKey)
    {
        var hash = 2166136261u; // FNV-1a: the same spread in every process
        foreach (var c in memberKey) hash = (hash ^ c) * 16777619u;
        return SnapshotEvery + (int)(hash % SnapshotEvery);
    }

    private int _snapshotAfter = SnapshotEvery;

    /// <summary>Ledger rows after the last snapshot that make a deactivation take one.</summary>
    public const int SnapshotOnDeactivation = 16;

    private string _key = "";
    private string _programId = "";
    private string _memberId = "";
    private MemberState _state = new();

    /// <summary>Completes when the append of the write in progress has ended (kept or undone); null when none is in flight.</summary>
    private Task? _unsettled;

    /// <summary>The benefit facts last published to the read model.</summary>
    private BenefitFacts? _facts;

    // The tier at the last read, valid while nothing changes and no validity ends.
    private TierStatus? _tier;
    private long _tierRevision = -1;
    private int _tierProgramVersion = -1;
    private DateTimeOffset _tierAt;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = this.GetPrimaryKeyString();
        (_programId, _memberId) = MemberKeys.Parse(_key);
        _snapshotAfter = SnapshotAfter(_key);
        // A snapshot is an optimization: start from it when there is one, then replay the rows after it.
        _state = snapshot.RecordExists && snapshot.State.Seq > 0 ? MemberState.FromSnapshot(snapshot.State) : new MemberState();
        _snapshotSeq = _state.LastSeq;
        ReleaseSnapshot();
        foreach (var entry in await ledger.ReadAfterAsync(_key, _state.LastSeq, cancellationToken)) _state.Apply(entry);
        if (await programs.GetAsync(_programId) is { } program) PublishFacts(program, clock.GetUtcNow());
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        readModel.Withdraw(_key);
        // Snapshots that die with the process are not worth taking as it stops (and the memory storage's
        // own grains are already going: each write would fail and be logged).
        if (reason.ReasonCode == DeactivationReasonCode.ShuttingDown && !persistence.Value.SnapshotsOutliveProcess) return;
        if (_state.LastSeq - SnapshotSeq >= SnapshotOnDeactivation) await TrySnapshot();
    }

    /// <summary>The seq of the last snapshot known to be stored.</summary>
    private long _snapshotSeq;
    private long SnapshotSeq => _snapshotSeq;

    private async Task TrySnapshot()
    {
        try
        {
            snapshot.State = _state.ToSnapshot();
            await snapshot.WriteStateAsync();
            _snapshotSeq = snapshot.State.Seq;
        }
        catch (Exception e)
        {
            // The ledger already holds every row: a missing snapshot only makes the next activation replay more.
            logger.LogWarning(e, "Snapshot of {MemberKey} at seq {Seq} failed", _key, _state.LastSeq);
        }
        finally
        {
            ReleaseSnapshot();
        }
    }

    /// <summary>
    /// Lets go of the snapshot's object copy of the member once it is read or written: kept as the grain
    /// state, it held a second copy of the whole history (rows, strings) for as long as the member lived.
    /// The storage keeps its etag apart from the state, so the next write still finds its record.
    /// </summary>
    private void ReleaseSnapshot() => snapshot.State = new MemberSnapshot();

    async Task<WriteResult<EnrollResult>> IMemberGrain.Enroll(EnrollRequest request)
    {
        var program = await Program();
        var result = await Write(program, w => WithDue(w, MemberRules.Enroll(w, request)));
        if (result.Status != WriteStatus.Applied) return new WriteResult<EnrollResult>(result.Status, null, result.Reason, result.Detail, result.Field);
        return WriteResult<EnrollResult>.Ok(new EnrollResult(result.Value, Summary(program)));
    }

    Task<EventOutcome[]> IMemberGrain.ApplyEvents(ScoringEvent[] events) => ApplyEvents(events);

    async Task IStreamSubscriptionObserver.OnSubscribed(IStreamSubscriptionHandleFactory handleFactory)
        => await handleFactory.Create<ScoringEvent>().ResumeAsync(this);

    /// <summary>
    /// A batch from the stream. Applied exactly like an HTTP batch; a failure (the ledger is away) throws,
    /// so the stream delivers the batch again, and the events already applied come back as duplicates.
    /// </summary>
    async Task IAsyncBatchObserver<ScoringEvent>.OnNextAsync(IList<SequentialItem<ScoringEvent>> items)
    {
        var events = new ScoringEvent[items.Count];
        for (var i = 0; i < events.Length; i++) events[i] = items[i].Item;
        EventOutcome[] outcomes;
        try
        {
            outcomes = await ApplyEvents(events);
        }
        catch (ProgramNotFoundException e)
        {
            // Redelivery cannot fix this: reject the batch instead of stalling the queue behind it.
            outcomes = Array.ConvertAll(events, _ => EventOutcome.Rejected("programId", e.Message, "program-not-found"));
        }
        streamStats.Record(outcomes);
        for (var i = 0; i < outcomes.Length; i++)
        {
            if (outcomes[i].Status == EventStatus.Rejected)
            {
                logger.LogWarning("Stream event {EventId} of {MemberKey} rejected: {Field}: {Error}",
                    events[i].EventId, _key, outcomes[i].Field, outcomes[i].Error);
            }
        }
    }

    Task IAsyncBatchObserver<ScoringEvent>.OnErrorAsync(Exception ex)
    {
        logger.LogWarning(ex, "Scoring stream of {MemberKey} reported an error", _key);
        return Task.CompletedTask;
    }

    private async Task<EventOutcome[]> ApplyEvents(ScoringEvent[] events)
    {
        var program = await Program();
        return await Write(program, w =>
        {
            var outcomes = new EventOutcome[events.Length];
            for (var i = 0; i < events.Length; i++) outcomes[i] = MemberRules.ApplyEvent(w, events[i]);
            if (w.Entries.Count > 0) MemberRules.WriteDue(w);
            return outcomes;
        });
    }

    async Task<MemberSummary?> IMemberGrain.GetSummary()
    {
        var program = await Program();
        await Settled();
        return _state.Enrolled ? Summary(program) : null;
    }

    async Task<BenefitCheck?> IMemberGrain.CheckBenefit(string code)
    {
        var program = await Program();
        if (!program.BenefitsByCode.TryGetValue(code, out var benefit)) return null;
        await Settled();
        var now = clock.GetUtcNow();
        // The read model sends checks here when the facts it has no longer answer: publish fresh ones.
        PublishFacts(program, now);
        return MemberQueries.Check(_state.Enrolled ? _state : null, program, benefit, now, CurrentTier(program, now).Tier);
    }

    async Task<BenefitCheck[]> IMemberGrain.CheckBenefits()
    {
        var program = await Program();
        await Settled();
        var now = clock.GetUtcNow();
        var tier = CurrentTier(program, now).Tier;
        var state = _state.Enrolled ? _state : null;
        var checks = new BenefitCheck[program.Benefits.Count];
        for (var i = 0; i < checks.Length; i++) checks[i] = MemberQueries.Check(state, program, program.Benefits[i], now, tier);
        return checks;
    }

    Task<WriteResult<BenefitCheck>> IMemberGrain.UseBenefit(BenefitUseRequest request) => Write(MemberRules.UseBenefit, request);

    Task<WriteResult<RedemptionResult>> IMemberGrain.Redeem(RedemptionRequest request) => Write(MemberRules.Redeem, request);

    Task<WriteResult<SubscriptionView>> IMemberGrain.Subscribe(SubscriptionRequest request) => Write(MemberRules.Subscribe, request);

    async Task<LedgerPage?> IMemberGrain.GetLedger(int limit, long? before)
    {
        if (!_state.Enrolled) return null;
        var program = await Program();
        // The statement always includes what is due: write expiries and re-grades first.
        await Write(program, w =>
        {
            MemberRules.WriteDue(w);
            return true;
        });

        var entries = await ledger.ReadPageAsync(_key, before, limit);
        long? next = entries.Count == limit && entries[^1].Seq > 1 ? entries[^1].Seq : null;
        return new LedgerPage(entries, next);
    }

    async Task IMemberGrain.Erase()
    {
        await ledger.EraseAsync(_key);
        await dueIndex.EraseAsync(_key);
        await snapshot.ClearStateAsync();
        _snapshotSeq = 0;
        _state = new MemberState();
        readModel.Withdraw(_key);
        _facts = null;
        _tier = null;
        logger.LogInformation("Erased member {MemberKey}", _key);
        DeactivateOnIdle();
    }

    private async Task<WriteResult<T>> Write<TRequest, T>(Func<MemberWrite, TRequest, WriteResult<T>> rule, TRequest request)
        => await Write(await Program(), w => WithDue(w, rule(w, request)));

    /// <summary>A rule's result, with the entries now due written after it when it applied.</summary>
    private static WriteResult<T> WithDue<T>(MemberWrite w, WriteResult<T> result)
    {
        if (result.Status == WriteStatus.Applied) MemberRules.WriteDue(w);
        return result;
    }

    /// <summary>
    /// Runs <paramref name="rules"/> on the member's state (they fold what they emit into it) and makes the
    /// entries durable. A rule that throws or an append that fails takes the entries back out of the state
    /// before the error goes to the caller.
    /// </summary>
    private async Task<T> Write<T>(MembershipProgram program, Func<MemberWrite, T> rules)
    {
        var w = new MemberWrite(_state, program, clock.GetUtcNow());
        T result;
        Task durable;
        try
        {
            result = rules(w);
            durable = w.Entries.Count == 0 ? Task.CompletedTask : MakeDurable(w.Entries);
        }
        catch
        {
            Undo(w);
            throw;
        }
        if (w.Entries.Count == 0)
        {
            w.Keep();
            return result;
        }
        if (!durable.IsCompletedSuccessfully)
        {
            // The append is in flight (or failed): interleaved reads wait until it is kept or undone.
            var settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _unsettled = settled.Task;
            try
            {
                await durable;
            }
            catch
            {
                Undo(w);
                throw;
            }
            finally
            {
                _unsettled = null;
                settled.SetResult();
            }
        }
        w.Keep();

        // The rules' own tier at this instant is the one now in force (computed already unless a later
        // entry of the write changed the state): the facts need no second evaluation.
        RememberTier(w.TierAt(w.Now), program, w.Now);
        PublishFacts(program, w.Now);
        await PublishChanges(w.Entries);
        ArmNotices(w.Entries);
        if (_state.LastSeq - SnapshotSeq >= _snapshotAfter) await TrySnapshot();
        return result;
    }

    private Task MakeDurable(IReadOnlyList<LedgerEntry> entries)
        => persistence.Value.WriteStateEveryChange ? WriteStateThenAppend(entries) : ledger.AppendAsync(_key, entries);

    /// <summary>The plain-Orleans comparison: the whole member is the grain state, written before the ack.</summary>
    private async Task WriteStateThenAppend(IReadOnlyList<LedgerEntry> entries)
    {
        snapshot.State = _state.ToSnapshot();
        await snapshot.WriteStateAsync();
        _snapshotSeq = snapshot.State.Seq;
        ReleaseSnapshot();
        await ledger.AppendAsync(_key, entries);
    }

    private void Undo(MemberWrite w)
    {
        w.Undo();
        _tier = null;
    }

    /// <summary>Waits while a write's entries are on their way to the ledger: reads see only durable effects.</summary>
    private async ValueTask Settled()
    {
        while (_unsettled is { } pending) await pending;
    }

    /// <summary>Publishes the member's benefit facts to the read model when those it has are no longer exact.</summary>
    private void PublishFacts(MembershipProgram program, DateTimeOffset now)
    {
        var tier = CurrentTier(program, now);
        if (_facts is { } facts && facts.Matches(_state, program, tier, now)) return;
        _facts = BenefitFacts.Of(_state, program, tier, now);
        readModel.Publish(_key, _facts);
    }

    /// <summary>
    /// Announces the write's changes on the program's member-changes stream. The write is already durable:
    /// a failure here is logged, not the caller's problem (docs/streams.md says what that means).
    /// </summary>
    private async Task PublishChanges(IReadOnlyList<LedgerEntry> entries)
    {
        if (MemberChanges.From(_programId, _memberId, entries) is not { } changes) return;
        try
        {
            await Publish(changes);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Changes of {MemberKey} at seq {Seq} were not published", _key, _state.LastSeq);
        }
    }

    /// <summary>Puts changes on the program's member-changes stream; false when no stream provider is configured.</summary>
    private async Task<bool> Publish(List<MemberChange> changes)
    {
        _changes ??= ServiceProvider.GetKeyedService<IStreamProvider>(ScoringStreams.Provider)?
            .GetStream<MemberChange>(MemberChangeStreams.For(_programId));
        if (_changes is null) return false;
        await _changes.OnNextBatchAsync(changes);
        return true;
    }

    /// <summary>The due time the index holds for this member, as far as this activation knows.</summary>
    private DateTimeOffset _armed = DateTimeOffset.MaxValue;

    /// <summary>Makes sure the due-time index wakes this member for its next notice (an earlier one than it knows).</summary>
    private void ArmNotices(IReadOnlyList<LedgerEntry> entries)
    {
        List<long>? freshBuckets = null;
        List<string>? freshPlans = null;
        foreach (var e in entries)
        {
            if (e.Kind == LedgerKinds.Earn && e.BucketExpiresAt is not null) (freshBuckets ??= []).Add(e.Seq);
            if (e.Kind == LedgerKinds.Subscription && e.Plan is { } plan) (freshPlans ??= []).Add(plan);
        }
        var next = MemberNotices.Next(_state, clock.GetUtcNow(), (IReadOnlyCollection<long>?)freshBuckets ?? [], (IReadOnlyCollection<string>?)freshPlans ?? []);
        if (next is not { } due || due >= _armed) return;
        // Not part of the write's acknowledgement: the index write runs beside the caller's answer (on this
        // activation), so an activation storm queueing on the index does not slow ingestion.
        _armed = due;
        _ = Arm(due);
    }

    private async Task Arm(DateTimeOffset due)
    {
        try
        {
            await dueIndex.ArmAsync(_key, due);
        }
        catch (Exception e)
        {
            // The write is durable; the notice is late at worst: the next write of this member arms it again.
            if (_armed == due) _armed = DateTimeOffset.MaxValue;
            logger.LogWarning(e, "Due-time index not updated for {MemberKey}", _key);
        }
    }

    async Task<int> IMemberGrain.FireNotices()
    {
        var now = clock.GetUtcNow();
        var notices = _state.Enrolled ? MemberNotices.All(_programId, _memberId, _state, now) : [];
        var fired = 0;
        foreach (var notice in notices)
        {
            if (notice.DueAt > now || await dueIndex.HasFiredAsync(_key, notice.Key)) continue;
            // Published, then marked: a crash between the two repeats the notice, with the same change id.
            if (!await Publish([notice.Change])) break;
            await dueIndex.MarkFiredAsync(_key, notice.Key);
            fired++;
        }
        var next = MemberNotices.Next(_state, now, [], []);
        await dueIndex.SetAsync(_key, next);
        _armed = next ?? DateTimeOffset.MaxValue;
        return fired;
    }

    private IAsyncStream<MemberChange>? _changes;

    private MemberSummary Summary(MembershipProgram program)
    {
        var now = clock.GetUtcNow();
        return MemberQueries.Summary(_memberId, _state, program, now, CurrentTier(program, now));
    }

    /// <summary>
    /// The tier now, cached: it cannot change until the state changes, the program changes, or the
    /// cached validity ends (and no growth is dated after now).
    /// </summary>
    private TierStatus CurrentTier(MembershipProgram program, DateTimeOffset now)
    {
        if (_tier is { } cached && _tierRevision == _state.Revision && _tierProgramVersion == program.Version && now >= _tierAt
            && (cached.ValidUntil is not { } end || now < end)
            && (_state.Growth.Count == 0 || _state.Growth[^1].OccurredAt <= now))
        {
            return cached;
        }
        return RememberTier(MemberQueries.TierAt(_state, program, now), program, now);
    }

    private TierStatus RememberTier(TierStatus tier, MembershipProgram program, DateTimeOffset at)
    {
        _tier = tier;
        _tierRevision = _state.Revision;
        _tierProgramVersion = program.Version;
        _tierAt = at;
        return tier;
    }

    private async ValueTask<MembershipProgram> Program()
        => await programs.GetAsync(_programId) ?? throw new ProgramNotFoundException(_programId);
}

/// <summary>How a member's state reaches storage.</summary>
public sealed class MemberPersistenceOptions
{
    /// <summary>
    /// Benchmark switch: write the whole member with <c>WriteStateAsync</c> on every change, as a plain
    /// Orleans grain would, instead of relying on the ledger. Not a production mode: the comparison
    /// in docs/benchmarks.md is what it is for.
    /// </summary>
    public bool WriteStateEveryChange { get; set; }

    /// <summary>
    /// Whether the snapshot storage outlives this process (a database: true). The embedded node keeps
    /// snapshots in memory and sets false: a member then takes no snapshot when the silo shuts down.
    /// </summary>
    public bool SnapshotsOutliveProcess { get; set; } = true;
}

/// <summary>A member was addressed in a program that does not exist.</summary>
[GenerateSerializer, Alias("program-not-found")]
public sealed class ProgramNotFoundException(string programId) : Exception($"program '{programId}' not found")
{
    [Id(0)] public string ProgramId { get; } = programId;
}
