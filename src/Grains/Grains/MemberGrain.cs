using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Membership.Abstractions;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;
using Orleans.Membership.Domain.Programs;
using Orleans.Storage;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace Orleans.Membership.Grains;

/// <summary>
/// A member in memory. Every write runs the pure rules on the member's bounded state (they fold what they
/// emit into it) and appends the entries to the ledger; until the append is done nothing reads the state
/// (interleaved reads wait for it). If a rule throws or the append fails or its outcome is unknown, the
/// state is discarded and rebuilt from snapshot and ledger before the member is used again, so the member
/// is whatever the ledger says. Checkout on other threads reads the immutable <see cref="BenefitFacts"/>
/// the grain publishes to the <see cref="MemberReadModel"/>. Scoring events arrive by HTTP (through
/// <see cref="IMemberGrain.ApplyEvents"/>) or on the member's <see cref="ScoringStreams"/> stream.
/// </summary>
[ImplicitStreamSubscription(ScoringStreams.Namespace)]
public sealed class MemberGrain(MemberGrainServices services)
    : Grain, IMemberGrain, IStreamSubscriptionObserver, IAsyncBatchObserver<ScoringEvent>
{

    /// <summary>Ledger rows after the last snapshot that make the next write take a snapshot, at the least.</summary>
    public const int SnapshotEvery = 256;

    /// <summary>
    /// The rows after the last snapshot that make this member's next write take one: <see cref="SnapshotEvery"/>
    /// plus a share of it that depends on the member key, so members written at the same pace do not all
    /// snapshot in the same seconds.
    /// </summary>
    public static int SnapshotAfter(string memberKey)
    {
        var hash = 2166136261u; // FNV-1a: the same spread in every process
        foreach (var c in memberKey) hash = (hash ^ c) * 16777619u;
        return SnapshotEvery + (int)(hash % SnapshotEvery);
    }

    /// <summary>Ledger rows after the last snapshot that make a deactivation take one.</summary>
    public const int SnapshotOnDeactivation = 16;

    /// <summary>The snapshot's state name in the grain storage: the member's bounded state as it is.</summary>
    private const string SnapshotName = "member";

    private string _key = "";

    /// <summary>The member; null after a failed write, until it is rebuilt from snapshot and services.Ledger.</summary>
    private MemberState? _state;

    /// <summary>Completes when the append of the write in progress has ended; null when none is in flight.</summary>
    private Task? _unsettled;

    /// <summary>The facts last published to the read model; their tier is the member's tier cache.</summary>
    private BenefitFacts? _facts;
    /// <summary>The member's last seq when <see cref="_facts"/> were last known to be exact.</summary>
    private long _factsSeq = -1;

    private long _snapshotSeq;
    private string? _snapshotEtag;
    private IGrainStorage Snapshots => ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.Snapshots);

    private string MemberId => _key[(_key.IndexOf('/') + 1)..];
    private string ProgramId => _key[.._key.IndexOf('/')];

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = this.GetPrimaryKeyString();
        var program = await services.Programs.GetAsync(ProgramId);
        _state = await Load(program, cancellationToken);
        if (program is not null) PublishFacts(program, services.Clock.GetUtcNow());
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        services.ReadModel.Withdraw(_key);
        // Snapshots that die with the process are not worth taking as it stops.
        if (reason.ReasonCode == DeactivationReasonCode.ShuttingDown && !services.Persistence.Value.SnapshotsOutliveProcess) return;
        if (_state is not null && _state.LastSeq - _snapshotSeq >= SnapshotOnDeactivation) await TrySnapshot(_state);
    }

    /// <summary>
    /// The member from its snapshot (an optimization: losing one loses nothing) and the ledger rows after it,
    /// folded to the program's windows.
    /// </summary>
    private async Task<MemberState> Load(MembershipProgram? program, CancellationToken cancellationToken = default)
    {
        var stored = new GrainState<MemberState>();
        try
        {
            await Snapshots.ReadStateAsync(SnapshotName, this.GetGrainId(), stored);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            services.Logger.LogWarning(e, "Snapshot of {MemberKey} could not be read; replaying its whole ledger", _key);
            stored = new GrainState<MemberState>();
        }
        _snapshotEtag = stored.ETag;
        var state = stored.RecordExists && stored.State is { LastSeq: > 0 } snapshot ? snapshot : new MemberState();
        _snapshotSeq = state.LastSeq;
        try
        {
            // A snapshot from before states kept it: change ids need the first entry's instant.
            if (state.LastSeq > 0 && state.FirstRecordedAt is null && (await services.Ledger.ReadPageAsync(_key, 2, 1, cancellationToken)) is [var first]) state.RecallFirst(first);
            foreach (var entry in await services.Ledger.ReadAfterAsync(_key, state.LastSeq, cancellationToken)) state.Apply(entry);
            if (program is not null && MemberRecall.ForRead(state, program).WholeHistory) state = await WholeHistory(cancellationToken);
        }
        catch (HistoryNeededException)
        {
            // A write after the snapshot reached behind its horizon (a late event, a refund of an old order).
            state = await WholeHistory(cancellationToken);
        }
        if (program is not null) state.Fold(program, services.Clock.GetUtcNow());
        return state;
    }

    /// <summary>Every entry of the member replayed: nothing folded, for a request that reaches behind the horizon.</summary>
    private async Task<MemberState> WholeHistory(CancellationToken cancellationToken = default)
        => MemberState.Replay(await services.Ledger.ReadAfterAsync(_key, 0, cancellationToken));

    /// <summary>The member, rebuilt first if a failed write discarded it; with what the request needs from the services.Ledger.</summary>
    private async Task<MemberState> Ready(MembershipProgram program, MemberRecall? forWrite = null)
    {
        // A read can arrive while a write's append is in flight: it waits for the outcome.
        while (_unsettled is { } pending) await pending;
        _state ??= await Load(program);
        var recall = forWrite ?? MemberRecall.ForRead(_state, program);
        var wholeHistory = recall.WholeHistory;
        if (!wholeHistory && recall.CallerIds.Count > 0) _state.Recall(recall.CallerIds, await services.Ledger.FindAsync(_key, recall.CallerIds));
        if (!wholeHistory && recall.OrderIds.Count > 0) wholeHistory = !_state.RecallOrders(recall.OrderIds, await services.Ledger.FindOrdersAsync(_key, recall.OrderIds));
        if (wholeHistory)
        {
            _state = await WholeHistory();
            // A write folds after it runs; a read folds now (under the program's tier rules).
            if (forWrite is null) _state.Fold(program, services.Clock.GetUtcNow());
        }
        return _state;
    }

    private async Task TrySnapshot(MemberState state)
    {
        try
        {
            var stored = new GrainState<MemberState>(state) { ETag = _snapshotEtag };
            await Snapshots.WriteStateAsync(SnapshotName, this.GetGrainId(), stored);
            _snapshotEtag = stored.ETag;
            _snapshotSeq = state.LastSeq;
        }
        catch (Exception e)
        {
            // The ledger holds every row: a missing snapshot only makes the next activation replay more.
            services.Logger.LogWarning(e, "Snapshot of {MemberKey} at seq {Seq} failed", _key, state.LastSeq);
        }
    }

    async Task<WriteResult<EnrollResult>> IMemberGrain.Enroll(EnrollRequest request)
    {
        var program = await Program();
        var result = await Write(program, MemberRecall.Nothing, w => WithDue(w, MemberRules.Enroll(w, request)));
        if (result.Status != WriteStatus.Applied) return new WriteResult<EnrollResult>(result.Status, null, result.Reason, result.Detail, result.Field);
        return WriteResult<EnrollResult>.Ok(new EnrollResult(result.Value, Summary(program, _state!)));
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
        services.StreamStats.Record(outcomes);
        for (var i = 0; i < outcomes.Length; i++)
        {
            if (outcomes[i].Status == EventStatus.Rejected)
            {
                services.Logger.LogWarning("Stream event {EventId} of {MemberKey} rejected: {Field}: {Error}",
                    events[i].EventId, _key, outcomes[i].Field, outcomes[i].Error);
            }
        }
    }

    Task IAsyncBatchObserver<ScoringEvent>.OnErrorAsync(Exception ex)
    {
        services.Logger.LogWarning(ex, "Scoring stream of {MemberKey} reported an error", _key);
        return Task.CompletedTask;
    }

    private async Task<EventOutcome[]> ApplyEvents(ScoringEvent[] events)
    {
        var program = await Program();
        var state = await Ready(program);
        return await Write(program, MemberRecall.ForEvents(state, program, events, services.Clock.GetUtcNow()), w =>
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
        var state = await Ready(program);
        return state.Enrolled ? Summary(program, state) : null;
    }

    async Task<BenefitCheck?> IMemberGrain.CheckBenefit(string code)
    {
        var program = await Program();
        if (!program.BenefitsByCode.TryGetValue(code, out var benefit)) return null;
        var state = await Ready(program);
        var now = services.Clock.GetUtcNow();
        // The read model sends checks here when the facts it has no longer answer: publish fresh ones.
        var facts = PublishFacts(program, now);
        return MemberQueries.Check(state.Enrolled ? state : null, program, benefit, now, facts.Tier.Tier);
    }

    async Task<BenefitCheck[]> IMemberGrain.CheckBenefits()
    {
        var program = await Program();
        var state = await Ready(program);
        var now = services.Clock.GetUtcNow();
        var tier = PublishFacts(program, now).Tier.Tier;
        var member = state.Enrolled ? state : null;
        var checks = new BenefitCheck[program.Benefits.Count];
        for (var i = 0; i < checks.Length; i++) checks[i] = MemberQueries.Check(member, program, program.Benefits[i], now, tier);
        return checks;
    }

    async Task<PlanOffer[]> IMemberGrain.GetPlans()
    {
        var program = await Program();
        var state = await Ready(program);
        var now = services.Clock.GetUtcNow();
        return MemberQueries.Plans(state.Enrolled ? state : null, program, now, PublishFacts(program, now).Tier.Tier);
    }

    Task<WriteResult<BenefitCheck>> IMemberGrain.UseBenefit(BenefitUseRequest request) => Write(request.UseId, w => MemberRules.UseBenefit(w, request));

    Task<WriteResult<RedemptionResult>> IMemberGrain.Redeem(RedemptionRequest request) => Write(request.RedemptionId, w => MemberRules.Redeem(w, request));

    async Task<WriteResult<SubscriptionView>> IMemberGrain.Subscribe(SubscriptionRequest request)
    {
        var program = await Program();
        var state = await Ready(program);
        return await Write(program, MemberRecall.ForSubscription(state, program, request), w => WithDue(w, MemberRules.Subscribe(w, request)));
    }

    async Task<LedgerPage?> IMemberGrain.GetLedger(int limit, long? before)
    {
        var program = await Program();
        if (!(await Ready(program)).Enrolled) return null;
        // The statement always includes what is due: write expiries and re-grades first.
        await Write(program, MemberRecall.Nothing, w =>
        {
            MemberRules.WriteDue(w);
            return true;
        });

        var entries = await services.Ledger.ReadPageAsync(_key, before, limit);
        long? next = entries.Count == limit && entries[^1].Seq > 1 ? entries[^1].Seq : null;
        return new LedgerPage(entries, next);
    }

    async Task IMemberGrain.Erase()
    {
        while (_unsettled is { } pending) await pending;
        await services.Ledger.EraseAsync(_key);
        await services.DueIndex.EraseAsync(_key);
        await Snapshots.ClearStateAsync(SnapshotName, this.GetGrainId(), new GrainState<MemberState> { ETag = _snapshotEtag });
        _snapshotEtag = null;
        _snapshotSeq = 0;
        _state = new MemberState();
        services.ReadModel.Withdraw(_key);
        _facts = null;
        _factsSeq = -1;
        await GrainFactory.GetGrain<IChangeFeedGrain>(ProgramId).Forget(MemberId);
        services.Logger.LogInformation("Erased member {MemberKey}", _key);
        DeactivateOnIdle();
    }

    /// <summary>A write identified by one caller id (a redemption, a benefit use, a plan action), with the entries then due.</summary>
    private async Task<WriteResult<T>> Write<T>(string? callerId, Func<MemberWrite, WriteResult<T>> rule)
    {
        var program = await Program();
        var state = await Ready(program);
        return await Write(program, MemberRecall.ForCallerId(state, program, callerId), w => WithDue(w, rule(w)));
    }

    /// <summary>A rule's result, with the entries now due written after it when it applied.</summary>
    private static WriteResult<T> WithDue<T>(MemberWrite w, WriteResult<T> result)
    {
        if (result.Status == WriteStatus.Applied) MemberRules.WriteDue(w);
        return result;
    }

    /// <summary>
    /// Runs <paramref name="rules"/> on the member (they fold what they emit into it) and makes the entries
    /// durable. A rule that needs history the state folded away runs again on the whole history. A rule that
    /// throws, or an append that fails, discards the state: the next use rebuilds it from the services.Ledger.
    /// </summary>
    private async Task<T> Write<T>(MembershipProgram program, MemberRecall recall, Func<MemberWrite, T> rules)
    {
        var state = await Ready(program, recall);
        var w = new MemberWrite(state, program, services.Clock.GetUtcNow());
        T result;
        try
        {
            result = rules(w);
        }
        catch (HistoryNeededException)
        {
            // The recall missed something the rules reached for: run once more on the whole history.
            _state = state = await WholeHistory();
            w = new MemberWrite(state, program, w.Now);
            result = Run(w, rules);
        }
        catch
        {
            _state = null;
            throw;
        }

        if (w.Entries.Count > 0)
        {
            var durable = services.Ledger.AppendAsync(_key, w.Entries);
            if (!durable.IsCompletedSuccessfully)
            {
                var settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _unsettled = settled.Task;
                try
                {
                    await durable;
                }
                catch
                {
                    // The append failed, or committed without telling us: the ledger decides what the member is.
                    _state = null;
                    throw;
                }
                finally
                {
                    _unsettled = null;
                    settled.SetResult();
                }
            }
        }

        state.Fold(program, w.Now);
        if (w.Entries.Count == 0) return result;
        PublishFacts(program, w.Now);
        await PublishChanges(state, w.Entries);
        ArmNotices(program, state, w.Entries);
        if (state.LastSeq - _snapshotSeq >= SnapshotAfter(_key)) await TrySnapshot(state);
        return result;
    }

    private T Run<T>(MemberWrite w, Func<MemberWrite, T> rules)
    {
        try
        {
            return rules(w);
        }
        catch
        {
            _state = null;
            throw;
        }
    }

    /// <summary>
    /// The member's benefit facts now, published to the read model when those it has are no longer exact.
    /// Their tier is the only cached tier of the member: it holds until its validity ends or growth dated
    /// after publication comes into force.
    /// </summary>
    private BenefitFacts PublishFacts(MembershipProgram program, DateTimeOffset now)
    {
        var state = _state!;
        if (_facts is { } facts && _factsSeq == state.LastSeq && facts.Answers(program, now)) return facts;
        var tier = MemberQueries.TierAt(state, program, now);
        if (_facts is not { } old || !old.Matches(state, program, tier, now))
        {
            _facts = BenefitFacts.Of(state, program, tier, now);
            services.ReadModel.Publish(_key, _facts);
        }
        _factsSeq = state.LastSeq;
        return _facts;
    }

    /// <summary>
    /// Announces the write's changes on the program's member-changes stream. The write is already durable:
    /// a failure here is logged, not the caller's problem (docs/streams.md says what that means).
    /// </summary>
    private async Task PublishChanges(MemberState state, IReadOnlyList<LedgerEntry> entries)
    {
        try
        {
            if (MemberChanges.From(ProgramId, MemberId, state, entries) is { } changes) await Publish(changes);
        }
        catch (Exception e)
        {
            services.Logger.LogWarning(e, "Changes of {MemberKey} were not published", _key);
        }
    }

    /// <summary>Puts changes on the program's member-changes stream; false when no stream provider is configured.</summary>
    private Task<bool> Publish(List<MemberChange> changes) => services.Changes.Publish(ProgramId, changes);

    /// <summary>The due time the index holds for this member, as far as this activation knows.</summary>
    private DateTimeOffset _armed = DateTimeOffset.MaxValue;

    /// <summary>Makes sure the due-time index wakes this member for its next notice (an earlier one than it knows).</summary>
    private void ArmNotices(MembershipProgram program, MemberState state, IReadOnlyList<LedgerEntry> entries)
    {
        List<long>? freshBuckets = null;
        List<string>? freshPlans = null;
        foreach (var e in entries)
        {
            if (e.Kind == LedgerKinds.Earn && e.BucketExpiresAt is not null) (freshBuckets ??= []).Add(e.Seq);
            if (e.Kind == LedgerKinds.Subscription && e.Plan is { } plan) (freshPlans ??= []).Add(plan);
        }
        var next = MemberNotices.Next(program, state, services.Clock.GetUtcNow(), (IReadOnlyCollection<long>?)freshBuckets ?? [], (IReadOnlyCollection<string>?)freshPlans ?? []);
        if (next is not { } due || due >= _armed) return;
        // Not part of the write's acknowledgement: the index write runs beside the caller's answer.
        _armed = due;
        _ = Arm(due);
    }

    private async Task Arm(DateTimeOffset due)
    {
        try
        {
            await services.DueIndex.ArmAsync(_key, due);
        }
        catch (Exception e)
        {
            // The write is durable; the notice is late at worst: the next write of this member arms it again.
            if (_armed == due) _armed = DateTimeOffset.MaxValue;
            services.Logger.LogWarning(e, "Due-time index not updated for {MemberKey}", _key);
        }
    }

    async Task<int> IMemberGrain.FireNotices()
    {
        var program = await Program();
        var state = await Ready(program);
        var now = services.Clock.GetUtcNow();
        var notices = state.Enrolled ? MemberNotices.All(program, MemberId, state, now) : [];
        var fired = 0;
        foreach (var notice in notices)
        {
            if (notice.DueAt > now || await services.DueIndex.HasFiredAsync(_key, notice.Key)) continue;
            // Published, then marked: a crash between the two repeats the notice, with the same change id.
            if (!await Publish([notice.Change])) break;
            await services.DueIndex.MarkFiredAsync(_key, notice.Key);
            fired++;
        }
        var next = MemberNotices.Next(program, state, now, [], []);
        await services.DueIndex.SetAsync(_key, next);
        _armed = next ?? DateTimeOffset.MaxValue;
        return fired;
    }

    private MemberSummary Summary(MembershipProgram program, MemberState state)
    {
        var now = services.Clock.GetUtcNow();
        return MemberQueries.Summary(MemberId, state, program, now, PublishFacts(program, now).Tier);
    }

    private async ValueTask<MembershipProgram> Program()
        => await services.Programs.GetAsync(ProgramId) ?? throw new ProgramNotFoundException(ProgramId);
}

/// <summary>
/// What a member grain needs from its silo, in one object: every member holds one reference to it instead
/// of one per service (tens of millions of activations).
/// </summary>
public sealed record MemberGrainServices(
    IMemberLedger Ledger,
    ProgramCatalog Programs,
    MemberReadModel ReadModel,
    TimeProvider Clock,
    IOptions<MemberPersistenceOptions> Persistence,
    StreamIngestStats StreamStats,
    IDueIndex DueIndex,
    MemberChangePublisher Changes,
    ILogger<MemberGrain> Logger);

/// <summary>How a member's state reaches storage.</summary>
public sealed class MemberPersistenceOptions
{
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
