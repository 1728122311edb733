import Detection
import Metrics
import PostgresStore
import RuleLanguage
import Synchronization
import VigilCore

/// A warm standby's view of the stored transactions (`vigil serve --ha`): where in commit
/// order its detection state stands, and the records it waits on.
///
/// The standby loads state once, like a start, then applies each transaction the leader
/// commits as the leader's detection counted it: into the windows, the card, device and
/// merchant histories and the account's profile. It raises no alert and writes nothing. A record answered with the
/// fallback counts once its evaluation commits; one still pending at a takeover is
/// evaluated by the new leader, like at a start. Kept across restarts of the state child.
final class StandbyTail: Sendable {
    struct Progress {
        /// The state load finished (its content is consistent with `position`).
        var loaded = false
        /// A load was started: state may hold part of it.
        var started = false
        /// Every transaction committed at or before this is counted (or pending).
        var position = DetectionStore.TailPosition.start
        /// Stored before `position` but pending an evaluation: counted once it commits.
        var pending: Set<String> = []
    }

    let progress = Mutex(Progress())
    /// How often the standby reads what the leader committed.
    let interval: Duration
    /// Rows read per query (a standby behind by more reads in several).
    static let pageSize = 20_000
    private let lag = Gauge(label: "vigil_ha_standby_lag_seconds")
    private let applied = Counter(label: "vigil_ha_standby_applied_total")

    init(interval: Duration = .milliseconds(250)) {
        self.interval = interval
    }

    /// Reads and applies everything committed after the position, in pages, until a page
    /// comes back short. Each page is read in one snapshot with the pending records it
    /// waits on, and applied whole, so state never holds half of one. Returns the count.
    @discardableResult
    func catchUp(_ db: PostgresConnection, state: DetectionState) async throws -> Int {
        var total = 0
        while true {
            let (start, waiting) = progress.withLock { ($0.position, $0.pending) }
            try await db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            let page: [DetectionStore.CommittedTransaction]
            let evaluated: [DetectionStore.CommittedTransaction]
            let now: Timestamp?
            do {
                page = try await DetectionStore.committed(after: start, limit: Self.pageSize, on: db)
                evaluated = try await DetectionStore.evaluatedSince(Array(waiting), on: db)
                now = try await db.query("SELECT now()").first?.decode(0, as: Timestamp.self)
                try await db.execute("COMMIT")
            } catch {
                _ = try? await db.execute("ROLLBACK")
                throw error
            }
            // Evaluations that committed by this snapshot came, for their account, before
            // the transactions of the page that followed them: applied first.
            apply(evaluated, to: state)
            apply(page.filter { !$0.pending }, to: state)
            progress.withLock { p in
                for tx in evaluated { p.pending.remove(tx.transaction.id) }
                for tx in page where tx.pending { p.pending.insert(tx.transaction.id) }
                if let last = page.last { p.position = last.position }
            }
            total += page.count + evaluated.count
            applied.increment(by: page.count + evaluated.count)
            if let now, let newest = page.last?.position.receivedAt {
                lag.record(Double(max(0, now.microsecondsSinceEpoch - newest.microsecondsSinceEpoch)) / 1_000_000)
            } else if page.isEmpty {
                lag.record(0)
            }
            if page.count < Self.pageSize { return total }
        }
    }

    /// Counts committed transactions as the leader's detection did (late ones not at all):
    /// enriched with the profile and histories before it, then into the windows, the
    /// histories and the profile, in `Detector.detect`'s order, without evaluating a rule.
    func apply(_ rows: [DetectionStore.CommittedTransaction], to state: DetectionState) {
        guard !rows.isEmpty else { return }
        let ruleset = state.rules.ruleset
        let reference = state.reference.snapshot
        let lists = reference.listSnapshot(for: ruleset)
        var record = EvaluationRecord(for: ruleset)
        for row in rows where !row.late {
            let tx = row.transaction
            // Under the partition's lock, and the shared windows read under it: a rules
            // reload swaps them while holding every partition, as for a worker's batch.
            state.partitions[state.partition(of: tx.accountID)].state.withLock { memory in
                var profile = memory.profiles.removeValue(forKey: tx.accountID) ?? AccountProfile()
                let derived = Enricher.fill(&record, transaction: tx, reference: reference, profile: profile)
                record[.isLate] = .bool(false)
                Enricher.fillHistory(
                    &record, transaction: tx, amountBase: derived.amountBase, history: state.history, update: true, reads: ruleset.fieldsRead)
                for i in memory.windows.indices { memory.windows[i].observe(&record, lists: lists) }
                state.shared.observe(&record, lists: lists)
                Enricher.update(&profile, with: tx, derived: derived)
                memory.profiles[tx.accountID] = profile
            }
        }
    }
}
