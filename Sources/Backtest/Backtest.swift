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
            progress?(0, total)
            replay = try await replayInStages(replay, from: db, total: total, progress: progress)
            progress?(replay.seen, total)
            let elapsed = ContinuousClock.now - started
            return replay.finish(seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
    }

    /// Rows handed from stage to stage at a time.
    static let chunkSize = 1_024

    /// The replay in stages on threads of their own, joined by bounded hand-overs: the
    /// connection's thread reads and parses the COPY into chunks of rows; the candidate's
    /// lane decides them and tallies; a baseline ruleset's lane, when there is one,
    /// decides the same chunks alongside and hands over its outcomes. Each lane sees every
    /// row in the order read, so the result is the one a single thread would give.
    static func replayInStages(
        _ replay: Replay, from db: PostgresConnection, total: Int, progress: (@Sendable (Int, Int) -> Void)?
    ) async throws -> Replay {
        var replay = replay
        let baselineLane = replay.takeBaselineLane()
        let rows = Handover<[StoredTransaction]>(capacity: 8)
        let baselineRows = baselineLane.map { _ in Handover<[StoredTransaction]>(capacity: 8) }
        let baselineOutcomes = Handover<[LaneOutcome]>(capacity: 8)
        async let baselineDone: Void = {
            guard let baselineLane, let baselineRows else { return }
            await onThread("vigil-backtest-baseline") {
                var lane = baselineLane
                while let chunk = baselineRows.take() { baselineOutcomes.put(chunk.map { lane.decide($0) }) }
                baselineOutcomes.close()
            }
        }()
        async let replayed: Replay = onThread("vigil-backtest-candidate") { [replay] in
            var replay = replay
            while let chunk = rows.take() {
                let theirs = baselineRows == nil ? nil : baselineOutcomes.take()
                for index in chunk.indices { replay.consume(chunk[index], baseline: theirs?[index]) }
            }
            return replay
        }
        let reader = Mutex<(chunk: [StoredTransaction], read: Int)>(([], 0))
        let streamed: Result<Void, any Error>
        do {
            try await BacktestSource.stream(db) { bytes in
                let row = try StoredTransaction(copyRow: bytes)
                let (full, read) = reader.withLock { state -> ([StoredTransaction]?, Int) in
                    if state.chunk.isEmpty { state.chunk.reserveCapacity(chunkSize) }
                    state.chunk.append(row)
                    state.read += 1
                    guard state.chunk.count == chunkSize else { return (nil, state.read) }
                    defer { state.chunk = [] }
                    return (state.chunk, state.read)
                }
                if let full {
                    rows.put(full)
                    baselineRows?.put(full)
                }
                if read % 16_384 == 0 { progress?(read, total) }
            }
            streamed = .success(())
        } catch {
            streamed = .failure(error)
        }
        // The rest of the last chunk, then the end; on a failed read the lanes finish what
        // they have and the error is reported.
        let rest = reader.withLock { $0.chunk }
        if case .success = streamed, !rest.isEmpty {
            rows.put(rest)
            baselineRows?.put(rest)
        }
        rows.close()
        baselineRows?.close()
        await baselineDone
        let result = await replayed
        try streamed.get()
        return result
    }
}
