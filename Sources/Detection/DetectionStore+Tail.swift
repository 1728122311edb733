import PostgresStore
import VigilCore

/// What a warm standby reads to keep its detection state current (`vigil serve --ha`):
/// the transactions committed after a position, in commit order.
extension DetectionStore {
    /// A place in commit order. The writer commits one batch at a time, and every row of a
    /// batch has its transaction's `now()` as `received_at` and its place in the batch as
    /// `arrival`, so `(received_at, arrival, id)` orders rows as they were committed.
    public struct TailPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
        public var receivedAt: Timestamp
        public var arrival: Int64
        public var id: String

        /// A position.
        public init(receivedAt: Timestamp, arrival: Int64, id: String) {
            self.receivedAt = receivedAt
            self.arrival = arrival
            self.id = id
        }

        /// Before every stored row.
        public static let start = TailPosition(receivedAt: Timestamp(microsecondsSinceEpoch: 0), arrival: .min, id: "")

        public static func < (lhs: TailPosition, rhs: TailPosition) -> Bool {
            (lhs.receivedAt, lhs.arrival, lhs.id) < (rhs.receivedAt, rhs.arrival, rhs.id)
        }

        public var description: String { "\(receivedAt)#\(arrival)/\(id)" }
    }

    /// A stored transaction as the tail reads it.
    public struct CommittedTransaction: Sendable {
        public var transaction: Transaction
        public var position: TailPosition
        /// Kept out of windows, profiles and histories (see "Late records").
        public var late: Bool
        /// Answered with the fallback and not evaluated yet (`pending_evaluations`): it counts
        /// once its evaluation commits, or is evaluated by the next leader.
        public var pending: Bool
    }

    /// The newest stored position (`.start` when nothing is stored).
    public static func latestPosition(on db: PostgresConnection) async throws -> TailPosition {
        let rows = try await db.query(
            """
            SELECT received_at, coalesce(arrival, 0)::int8, id FROM transactions
            ORDER BY received_at DESC, coalesce(arrival, 0) DESC, id DESC LIMIT 1
            """)
        guard let row = rows.first else { return .start }
        return TailPosition(receivedAt: try row.decode(0), arrival: try row.decode(1), id: try row.decode(2))
    }

    /// The ids of the transactions whose evaluation has not committed.
    public static func pendingIDs(on db: PostgresConnection) async throws -> Set<String> {
        var ids = Set<String>()
        for row in try await db.query("SELECT transaction_id FROM pending_evaluations") { if let id = row.text(0) { ids.insert(id) } }
        return ids
    }

    /// At most `limit` transactions committed after `position`, in commit order. The
    /// `received_at` bound lets the BRIN index on it skip the older blocks.
    public static func committed(after position: TailPosition, limit: Int, on db: PostgresConnection) async throws -> [CommittedTransaction] {
        let rows = try await db.query(
            """
            SELECT t.id, t.event_time, t.account_id, t.card_id, t.amount_minor, t.currency, t.merchant_id, t.mcc,
                   t.country, t.channel, t.device_id, t.ip, t.latitude, t.longitude, t.received_at, coalesce(t.arrival, 0)::int8,
                   t.late, EXISTS (SELECT 1 FROM pending_evaluations e WHERE e.transaction_id = t.id)
            FROM transactions t
            WHERE t.received_at >= \(position.receivedAt)
              AND (t.received_at, coalesce(t.arrival, 0)::int8, t.id) > (\(position.receivedAt), \(position.arrival), \(position.id))
            ORDER BY t.received_at, coalesce(t.arrival, 0), t.id
            LIMIT \(limit)
            """)
        return try rows.compactMap(committedTransaction(from:))
    }

    /// Of `ids` (transactions that were pending), those whose evaluation has committed since.
    public static func evaluatedSince(_ ids: [String], on db: PostgresConnection) async throws -> [CommittedTransaction] {
        guard !ids.isEmpty else { return [] }
        let rows = try await db.query(
            """
            SELECT t.id, t.event_time, t.account_id, t.card_id, t.amount_minor, t.currency, t.merchant_id, t.mcc,
                   t.country, t.channel, t.device_id, t.ip, t.latitude, t.longitude, t.received_at, coalesce(t.arrival, 0)::int8,
                   t.late, false
            FROM transactions t
            WHERE t.id = ANY(\(PostgresTextArray(ids))::text[])
              AND NOT EXISTS (SELECT 1 FROM pending_evaluations e WHERE e.transaction_id = t.id)
            ORDER BY t.received_at, coalesce(t.arrival, 0), t.id
            """)
        return try rows.compactMap(committedTransaction(from:))
    }

    private static func committedTransaction(from row: PostgresRow) throws -> CommittedTransaction? {
        guard let tx = try transaction(from: row) else { return nil }
        return CommittedTransaction(
            transaction: tx, position: TailPosition(receivedAt: try row.decode(14), arrival: try row.decode(15), id: tx.id),
            late: try row.decode(16), pending: try row.decode(17))
    }

    /// The accounts whose profile row lacks transactions stored since the profile
    /// checkpoint (what a start replays into them), with the first such `received_at`,
    /// and the newest: a new leader whose profiles are already current marks these for
    /// its next checkpoint, as a start marks the ones it replayed.
    public static func profilesBehindCheckpoint(on db: PostgresConnection) async throws -> (
        accounts: [(account: String, since: Timestamp)], through: Timestamp?
    ) {
        let rows = try await db.query(
            """
            SELECT t.account_id, min(t.received_at), max(t.received_at)
            FROM transactions t
            LEFT JOIN account_profiles p ON p.account_id = t.account_id
            WHERE t.received_at > (SELECT through FROM profile_checkpoints WHERE id = 1)
              AND (p.checkpoint_through IS NULL OR t.received_at > p.checkpoint_through)
              AND NOT t.late
              AND NOT EXISTS (SELECT 1 FROM pending_evaluations e WHERE e.transaction_id = t.id)
            GROUP BY t.account_id
            """)
        var accounts: [(account: String, since: Timestamp)] = []
        var through: Timestamp?
        for row in rows {
            let newest: Timestamp = try row.decode(2)
            accounts.append((try row.decode(0), try row.decode(1)))
            through = max(through ?? newest, newest)
        }
        return (accounts, through)
    }

    /// The card, device and merchant histories whose row lacks transactions stored since
    /// the entity checkpoint, with the first such `received_at`, and the newest (see
    /// ``profilesBehindCheckpoint(on:)``).
    public static func entitiesBehindCheckpoint(on db: PostgresConnection) async throws -> (
        entities: [(key: EntityKey, since: Timestamp)], through: Timestamp?
    ) {
        let rows = try await db.query(
            """
            SELECT k.kind, k.entity_id, min(t.received_at), max(t.received_at)
            FROM transactions t
            CROSS JOIN LATERAL (VALUES ('card', t.card_id), ('device', t.device_id), ('merchant', t.merchant_id)) AS k(kind, entity_id)
            LEFT JOIN entity_history h ON h.kind = k.kind AND h.entity_id = k.entity_id
            WHERE t.received_at > (SELECT through FROM entity_checkpoints WHERE id = 1)
              AND k.entity_id IS NOT NULL
              AND (h.checkpoint_through IS NULL OR t.received_at > h.checkpoint_through)
              AND NOT t.late
              AND NOT EXISTS (SELECT 1 FROM pending_evaluations e WHERE e.transaction_id = t.id)
            GROUP BY k.kind, k.entity_id
            """)
        var entities: [(key: EntityKey, since: Timestamp)] = []
        var through: Timestamp?
        for row in rows {
            guard let kind = EntityKind(rawValue: try row.decode(0, as: String.self)) else { continue }
            let newest: Timestamp = try row.decode(3)
            entities.append((EntityKey(kind, try row.decode(1)), try row.decode(2)))
            through = max(through ?? newest, newest)
        }
        return (entities, through)
    }
}
