import Synchronization

/// The transaction ids between the feed and their commit, and the detection partition
/// each went to, so that a second record with an id still in flight follows the first.
///
/// Records are routed by account, and an id reused for another account would otherwise
/// reach another worker, which cannot know the id is taken (it is not stored yet and not
/// in its own recent ids): it would evaluate the record and fold it into that account's
/// profile and windows, though the writer then refuses it as an id conflict. Sent to the
/// first record's worker instead, it comes after that record, is recognised as a repeat
/// and passed on unevaluated; the writer settles it as a duplicate or an id conflict.
///
/// One lock per hand-over and one per committed batch, not per record; the table holds
/// only what is in flight (bounded by the mailboxes).
public final class InFlightIDs: Sendable {
    private let claims = Mutex<[String: (partition: Int, count: Int)]>([:])

    /// Creates an empty table.
    public init() {}

    /// For each id, in order, the partition it goes to: the one an in-flight record of the
    /// same id went to, else `proposed` (its account's). Each id is held until `release`.
    func route(_ records: [(id: String, proposed: Int)]) -> [Int] {
        claims.withLock { table in
            records.map { record in
                if let held = table[record.id] {
                    table[record.id] = (held.partition, held.count + 1)
                    return held.partition
                }
                table[record.id] = (record.proposed, 1)
                return record.proposed
            }
        }
    }

    /// Lets go of one hold on each id (its record was committed, refused or not handed over).
    func release(_ ids: some Sequence<String>) {
        claims.withLock { table in
            for id in ids {
                guard let held = table[id] else { continue }
                table[id] = held.count > 1 ? (held.partition, held.count - 1) : nil
            }
        }
    }

    /// Ids held now (for tests and diagnostics).
    public var count: Int { claims.withLock { $0.count } }
}
