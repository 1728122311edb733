import Synchronization

/// What became of the records answered with the fallback decision, from the writer to
/// the detection workers that evaluate them afterwards: each committed fallback is
/// settled as stored now (evaluate it: windows, profile, hits, alert) or not (a replay of
/// a stored transaction, an id conflict, a refused record: evaluating it would count it
/// twice or attach hits to nothing). Settlements of one id are kept in order, as both
/// the writer and the worker see a partition's records in arrival order.
public final class FallbackLedger: Sendable {
    private let settled = Mutex<[String: [Bool]]>([:])

    /// An empty ledger.
    public init() {}

    /// Records, after the commit, whether each fallback was stored now.
    func settle(_ outcomes: [(id: String, storedNow: Bool)]) {
        guard !outcomes.isEmpty else { return }
        settled.withLock { table in
            for outcome in outcomes { table[outcome.id, default: []].append(outcome.storedNow) }
        }
    }

    /// Whether the writer has settled the fallback of `id` (its commit is over).
    func isSettled(_ id: String) -> Bool {
        settled.withLock { $0[id] != nil }
    }

    /// Takes the oldest settlement of `id`: true when its record was stored now and is to
    /// be evaluated; false when not, or when there is none.
    func take(_ id: String) -> Bool {
        settled.withLock { table in
            guard var queue = table[id], !queue.isEmpty else { return false }
            let first = queue.removeFirst()
            table[id] = queue.isEmpty ? nil : queue
            return first
        }
    }

    /// Settlements not yet taken (for tests: zero once detection has caught up).
    public var count: Int { settled.withLock { $0.values.reduce(0) { $0 + $1.count } } }
}
