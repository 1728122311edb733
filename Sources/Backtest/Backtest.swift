import Detection
import Foundation
import PostgresStore
import RuleLanguage
import Synchronization
import VigilCore

/// What to replay and against what.
public struct BacktestOptions: Sendable {
    /// The period by event time, `[from, to)`; `nil` means from the first / through the last stored transaction.
    public var from: Timestamp?
    public var to: Timestamp?
    /// The currency `amount_base` is in (as `vigil serve --base-currency`).
    public var baseCurrency: String
    /// As `vigil serve --allowed-lateness` (only used for records the live run never judged).
    public var allowedLateness: Duration
    /// Keep every candidate hit in the report (`BacktestReport.hits`).
    public var keepHits: Bool

    /// Creates options.
    public init(
        from: Timestamp? = nil, to: Timestamp? = nil, baseCurrency: String = "EUR", allowedLateness: Duration = .seconds(300), keepHits: Bool = false
    ) {
        self.from = from
        self.to = to
        self.baseCurrency = baseCurrency
        self.allowedLateness = allowedLateness
        self.keepHits = keepHits
    }
}

/// What the candidate is compared with.
public enum BacktestBaseline: Sendable {
    /// The hits and alerts the live pipeline stored for the period.
    case live
    /// Another ruleset, replayed alongside the candidate over the same transactions.
    case ruleset(CompiledRuleset)
}

/// Replays stored transactions through a candidate ruleset as the live pipeline would
/// have run it: windows and profiles rebuilt from everything stored before the period
/// (the warm-up), reference data as it was when each transaction arrived, the lateness
/// the live run decided. Reads only; writes nothing to any table.
public enum Backtest {
    /// Runs the backtest; `progress(done, total)` is called now and then from the reading thread.
    public static func run(
        candidate: CompiledRuleset, baseline: BacktestBaseline, options: BacktestOptions, database: PostgresConfiguration,
        progress: (@Sendable (Int, Int) -> Void)? = nil
    ) async throws -> BacktestReport {
        try await PostgresConnection.withConnection(database) { db in
            let bounds = try await db.query(
                """
                SELECT (extract(epoch FROM min(event_time)) * 1000000)::bigint, (extract(epoch FROM max(event_time)) * 1000000)::bigint
                FROM transactions
                """
            ).first
            let first: Int64? = try bounds?.decodeIfPresent(0)
            let last: Int64? = try bounds?.decodeIfPresent(1)
            let from = options.from ?? first.map { Timestamp(microsecondsSinceEpoch: $0) } ?? .now()
            let to = options.to ?? last.map { Timestamp(microsecondsSinceEpoch: $0 &+ 1) } ?? from
            guard from < to || (options.from == nil && options.to == nil) else { throw BacktestError.badPeriod(from: from, to: to) }
            let earliestArrival: Int64? = try await db.query(
                "SELECT (extract(epoch FROM min(received_at)) * 1000000)::bigint FROM transactions WHERE event_time < \(to)"
            ).first?.decodeIfPresent(0)
            let start = Timestamp(microsecondsSinceEpoch: (earliestArrival ?? to.microsecondsSinceEpoch) &- 1)
            let timeline = try await ReferenceTimeline.load(from: db, baseCurrency: options.baseCurrency, start: start)
            let stored: StoredOutcomes? =
                switch baseline {
                case .live: try await StoredOutcomes.load(from: db, from: from, to: to)
                case .ruleset: nil
                }
            let reversals = try await DetectionStore.countedReversals(from: db)
            var replay = Replay(
                candidate: candidate, baseline: baseline, stored: stored, timeline: timeline, reversals: reversals, options: options, from: from,
                to: to)
            replay.labels = try await StoredOutcomes.labels(from: db, from: from, to: to)
            replay.report.from = RFC3339.format(from)
            replay.report.to = RFC3339.format(to)
            try await BacktestSource.prepare(db, until: to)
            let total = try await BacktestSource.count(db)
            let started = ContinuousClock.now
            let state = Mutex(replay)
            progress?(0, total)
            try await BacktestSource.stream(db) { bytes in
                let done = try state.withLock { replay in
                    try replay.consume(StoredTransaction(copyRow: bytes))
                    return replay.seen
                }
                if done % 16_384 == 0 { progress?(done, total) }
            }
            replay = state.withLock { $0 }
            progress?(replay.seen, total)
            let elapsed = ContinuousClock.now - started
            return replay.finish(seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
    }
}
