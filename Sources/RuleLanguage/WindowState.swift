import VigilCore

/// The live state of a ruleset's windows: per window, per key value, the events of the
/// last `duration`, with running aggregates updated incrementally.
///
/// **Semantics: a rule sees the window *after* the current transaction is counted.**
/// `observe(_:)` adds the transaction (when it passes the window's `where`) and then
/// writes each window's value into the record, so "5 charges in 10 minutes" includes
/// this one. The window at time `t` covers `(t - duration, t]`.
///
/// Exact where cheap: count, sum and avg add on insert and subtract on eviction; max
/// keeps a monotonic queue (amortised O(1)); count_distinct keeps a reference count per
/// value. Bounded memory: at most `Limits.maxEventsPerKey` events per key; beyond that
/// the oldest are dropped, so an aggregate then covers only the newest events (counts
/// saturate at the cap — documented approximation, far above any rule threshold).
/// Transactions that arrive out of order are counted at the newest time seen for their
/// key (a late event never expires earlier than the events already stored).
/// Keys with no live event are removed by `evictIdle(now:)`, which the pipeline calls
/// periodically. Not thread-safe by itself: own it from one task (or an actor).
public struct WindowState: Sendable {
    /// Memory limits.
    public struct Limits: Sendable {
        /// Events kept per key per window.
        public var maxEventsPerKey: Int
        /// Creates limits.
        public init(maxEventsPerKey: Int = 4096) {
            self.maxEventsPerKey = max(1, maxEventsPerKey)
        }
    }

    /// The windows maintained, by slot.
    public private(set) var specs: [WindowSpec]
    var tables: [[String: KeyWindow]]
    let limits: Limits
    let windowCount: Int

    /// Creates empty state for `ruleset`'s windows.
    public init(ruleset: CompiledRuleset, limits: Limits = Limits()) {
        self.init(specs: ruleset.windows, limits: limits)
    }

    /// Creates empty state for the given windows.
    public init(specs: [WindowSpec], limits: Limits = Limits()) {
        self.specs = specs
        self.limits = limits
        windowCount = (specs.map(\.slot).max() ?? -1) + 1
        tables = Array(repeating: [:], count: specs.count)
    }

    /// Counts the record's transaction in every window whose filter it passes, evicts
    /// expired events, and writes every window's current value into `record.windows`.
    /// A window whose key field is absent gets `.absent`.
    public mutating func observe(_ record: inout EvaluationRecord, lists: ListSnapshot = .empty) {
        guard let time = record.timestamp?.microsecondsSinceEpoch else { return }
        if record.windows.count < windowCount {
            record.windows = ContiguousArray(repeating: .absent, count: windowCount)
        }
        for (i, spec) in specs.enumerated() {
            guard case .string(let key) = record.fields[spec.key.rawValue] else {
                record.windows[spec.slot] = .absent
                continue
            }
            var counted = true
            if let filter = spec.filter, filter(record, lists) != .bool(true) { counted = false }
            var event: KeyWindow.Event? = nil
            if counted {
                event = KeyWindow.Event(time: time, number: 0, text: nil)
                if let value = spec.value {
                    switch value(record, lists) {
                    case .int(let v): event?.number = v
                    case .decimal(let d): event?.number = d.units
                    case .string(let s): event?.text = s
                    default: event = nil  // absent or error: the event is not counted
                    }
                }
            }
            if event == nil && tables[i][key] == nil {
                record.windows[spec.slot] = spec.emptyValue
                continue
            }
            record.windows[spec.slot] = tables[i][key, default: KeyWindow()].update(
                event, now: time, spec: spec, cap: limits.maxEventsPerKey)
        }
    }

    /// Replays stored records in time order to rebuild state at start (their window
    /// values are computed and discarded).
    public mutating func replay(_ records: some Sequence<EvaluationRecord>, lists: ListSnapshot = .empty) {
        for var record in records { observe(&record, lists: lists) }
    }

    /// Removes keys whose newest event is older than their window: bounds memory by the
    /// number of keys active within the longest window.
    public mutating func evictIdle(now: Timestamp) {
        for (i, spec) in specs.enumerated() {
            let cutoff = now.microsecondsSinceEpoch &- spec.duration
            tables[i] = tables[i].filter { $0.value.newest > cutoff }
        }
    }

    /// Number of keys held, over all windows (for metrics).
    public var keyCount: Int { tables.reduce(0) { $0 + $1.count } }

    /// State for `ruleset`, keeping every window whose name and definition are unchanged
    /// (a changed window starts empty and must be replayed, as warning W0003 says).
    public func migrated(to ruleset: CompiledRuleset) -> WindowState {
        var next = WindowState(ruleset: ruleset, limits: limits)
        for (i, spec) in next.specs.enumerated() {
            if let j = specs.firstIndex(where: { spec.keepsState(of: $0) }) {
                next.tables[i] = tables[j]
            }
        }
        return next
    }
}

extension WindowSpec {
    /// The value of a window with no events: 0 for count and sum, absent for avg and max.
    var emptyValue: Value {
        switch aggregate {
        case .count, .countDistinct: .int(0)
        case .sum: resultType.base == .int ? .int(0) : .decimal(.zero)
        case .avg, .max: .absent
        }
    }
}
