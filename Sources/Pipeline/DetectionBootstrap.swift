import Detection
import FeedServer
import Logging
import PostgresStore
import RuleLanguage
import ServiceLifecycle
import VigilCore

/// Loads detection state at start and keeps reference data fresh.
///
/// Once per process: reference data, every account profile, and the window state
/// rebuilt by replaying the stored transactions of the longest declared window, so a
/// restart does not blind the velocity rules; until then `/readyz` is false and the
/// workers wait (the feed backs up into TCP meanwhile). Then, for as long as it runs,
/// it listens for changes to the reference tables and swaps in a fresh snapshot.
public final class DetectionBootstrap: Service, Sendable {
    let state: DetectionState
    private let health: PipelineHealth
    private let database: PostgresConfiguration
    private let rulesetFiles: [String]
    let dirtyProfiles: DirtyProfiles?
    let dirtyEntities: DirtyEntities?
    /// Where the pending evaluations found at start are handed to their partition's worker.
    private let backlogs: [DetectionBacklog]
    private let fallbacks: FallbackLedger?
    /// With `--ha`: the standby loads state at once and keeps it current (see ``StandbyTail``).
    let leadership: Leadership?
    let tail: StandbyTail
    let logger: Logger

    /// Creates the loader.
    public init(
        state: DetectionState, health: PipelineHealth, database: PostgresConfiguration,
        rulesetFiles: [String], dirtyProfiles: DirtyProfiles? = nil, dirtyEntities: DirtyEntities? = nil,
        backlogs: [DetectionBacklog] = [], fallbacks: FallbackLedger? = nil, leadership: Leadership? = nil,
        tailInterval: Duration = .milliseconds(250), logger: Logger = Logger(label: "vigil.state")
    ) {
        self.leadership = leadership
        self.tail = StandbyTail(interval: tailInterval)
        self.backlogs = backlogs
        self.fallbacks = fallbacks
        self.dirtyProfiles = dirtyProfiles
        self.dirtyEntities = dirtyEntities
        self.state = state
        self.health = health
        self.database = database
        self.rulesetFiles = rulesetFiles
        self.logger = logger
    }

    public func run() async throws {
        guard (try? await cancelWhenGracefulShutdown({ await self.health.databaseVerified.wait() })) == true else { return }
        try await PostgresConnection.withConnection(database) { db in
            let baseCurrency = state.reference.snapshot.baseCurrency
            if let channel = PostgresIdentifier(DetectionStore.referenceChannel) {
                try await db.listen(channel)  // before loading, so no change slips between
            }
            let snapshot = try await DetectionStore.loadReference(from: db, baseCurrency: baseCurrency)
            state.reference.replace(with: snapshot)
            if !snapshot.unreadableRates.isEmpty {
                logger.warning(
                    "FX rates that cannot be used were skipped; amount_base is absent for those currencies",
                    metadata: ["rates": "\(snapshot.unreadableRates.joined(separator: ","))"])
            }
            for name in snapshot.missingTableLists(for: state.rules.ruleset) {
                logger.warning(
                    "a rules list is read from the lists table but has no row there; it is empty until one is added", metadata: ["list": "\(name)"])
            }
            if let leadership, !state.ready.isRaised {
                // A standby keeps state warm until it leads; it writes nothing meanwhile.
                guard try await standBy(db, leadership: leadership, baseCurrency: baseCurrency) else { return }
            }
            try await recordRuleset(on: db)
            if !state.ready.isRaised {
                if leadership == nil { try await loadState(db) }
                // A start and a takeover alike: reversals are counted from their rows.
                let reversed = try await loadReversals(db)
                if reversed > 0 { logger.info("reversal counts loaded", metadata: ["entities": "\(reversed)"]) }
                try await queuePendingEvaluations(db)
                state.ready.raise()
                health.setStateLoaded(true)
            }
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                try await reloadReference(db, baseCurrency: baseCurrency, waiting: .milliseconds(500))
            }
        }
    }

    /// Waits up to `waiting` for a change to the reference tables and swaps in a fresh snapshot after one.
    func reloadReference(_ db: PostgresConnection, baseCurrency: String, waiting: Duration) async throws {
        let notes = try await db.waitForNotifications(timeout: waiting)
        guard !notes.isEmpty else { return }
        let started = ContinuousClock.now
        let snapshot = try await DetectionStore.loadReference(from: db, baseCurrency: baseCurrency)
        state.reference.replace(with: snapshot)
        logger.info(
            "reference data reloaded",
            metadata: [
                "tables": "\(Set(notes.map(\.payload)).sorted().joined(separator: ","))",
                "accounts": "\(snapshot.accounts.count)", "took": "\(ContinuousClock.now - started)",
            ])
    }

    /// Records the ruleset in force in `ruleset_versions` (idempotent).
    func recordRuleset(on db: PostgresConnection) async throws {
        let ruleset = state.rules.ruleset
        try await db.recordRulesetVersion(
            ruleset.version, files: rulesetFiles, ruleCount: ruleset.rules.count, texts: ruleset.texts,
            activation: RulesetActivation(author: RulesReloader.systemUser, how: "start"))
    }

    /// Hands the records answered with the fallback whose evaluation never committed (the
    /// process stopped in between) to their partition's worker, ahead of anything new, as
    /// if their fallback had just committed: they are evaluated once, and their hits and
    /// alert stored, before the feed's records of the same partition.
    private func queuePendingEvaluations(_ db: PostgresConnection) async throws {
        guard let fallbacks, !backlogs.isEmpty else { return }
        let pending = try await DetectionStore.pendingEvaluations(from: db)
        guard !pending.isEmpty else { return }
        let replies = ReplyQueue(capacity: 1)  // never answered again: the fallback was the answer
        var byPartition = [[FeedRecord]](repeating: [], count: backlogs.count)
        for (sequence, entry) in pending.enumerated() {
            var record = FeedRecord(
                payload: .transaction(entry.transaction), rawLine: entry.rawLine, peer: "pending evaluation",
                replies: replies, sequence: UInt64(sequence), session: entry.session)
            record.fallback = entry.decision
            byPartition[state.partition(of: entry.transaction.accountID) % backlogs.count].append(record)
        }
        fallbacks.settle(pending.map { ($0.transaction.id, true) })
        for (index, records) in byPartition.enumerated() where !records.isEmpty {
            backlogs[index].pending.withLock { $0.input = records + $0.input }
        }
        logger.notice(
            "evaluating records answered with the fallback before the last stop, whose evaluation had not committed",
            metadata: ["records": "\(pending.count)"])
    }

    /// Loads profiles, histories and windows as a start does. `markDirty`: hand what it
    /// replayed past the checkpoints to the checkpointer (a standby does that when it leads).
    func loadState(_ db: PostgresConnection, markDirty: Bool = true) async throws {
        let started = ContinuousClock.now
        let profiles = try await DetectionStore.loadProfiles(from: db)
        for (account, profile) in profiles {
            state.partitions[state.partition(of: account)].state.withLock { $0.profiles[account] = profile }
        }
        // Profiles are checkpointed some time after they change: replay what was stored
        // since that their rows do not include, so they are exact again.
        let sinceCheckpoint = try await DetectionStore.transactionsSinceProfileCheckpoint(from: db)
        do {
            let reference = state.reference.snapshot
            var scratch = EvaluationRecord(windowCount: 0)
            var replayed: [String: (profile: AccountProfile, since: Timestamp)] = [:]
            for (tx, receivedAt) in sinceCheckpoint {
                let profile = state.partitions[state.partition(of: tx.accountID)].state.withLock { partition in
                    var profile = partition.profiles[tx.accountID] ?? AccountProfile()
                    let derived = Enricher.fill(&scratch, transaction: tx, reference: reference, profile: profile)
                    Enricher.update(&profile, with: tx, derived: derived)
                    partition.profiles[tx.accountID] = profile
                    return profile
                }
                replayed[tx.accountID] = (profile, replayed[tx.accountID]?.since ?? receivedAt)
            }
            // Their rows are still behind: checkpoint them like any changed profile, or a
            // second crash after the marker moved on would lose what was replayed.
            if markDirty, let dirtyProfiles, let through = sinceCheckpoint.last?.receivedAt {
                dirtyProfiles.addReplayed(replayed.map { ($0.key, $0.value.profile, $0.value.since) }, through: through)
            }
        }
        let entityReplay = try await loadEntities(db, markDirty: markDirty)
        let span = state.longestWindow
        let recent = span > .zero ? try await DetectionStore.recentTransactions(from: db, span: span) : []
        let ruleset = state.rules.ruleset
        let reference = state.reference.snapshot
        let lists = reference.listSnapshot(for: ruleset)
        var record = EvaluationRecord(for: ruleset)
        for tx in recent {
            _ = Enricher.fill(&record, transaction: tx, reference: reference, profile: nil)
            state.partitions[state.partition(of: tx.accountID)].state.withLock { partition in
                for i in partition.windows.indices { partition.windows[i].observe(&record, lists: lists) }
            }
            state.shared.observe(&record, lists: lists)
        }
        logger.info(
            "detection state loaded",
            metadata: [
                "profiles": "\(profiles.count)", "profile_replay": "\(sinceCheckpoint.count)", "entity_replay": "\(entityReplay)",
                "replayed_transactions": "\(recent.count)",
                "window_span": "\(span)", "took": "\(ContinuousClock.now - started)",
            ])
    }
}
