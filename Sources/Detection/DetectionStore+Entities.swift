import PostgresStore
import VigilCore

/// Card, device and merchant histories in PostgreSQL (`entity_history`, migration 0014).
extension DetectionStore {
    /// A stored history and the newest `received_at` it includes (nil: unknown, treat as old).
    public struct StoredEntity: Sendable {
        public var key: EntityKey
        public var stats: EntityStats
        public var checkpointThrough: Timestamp?
    }

    /// Reads every stored history, least recently seen first (so that loading them into a
    /// capped ``SharedHistory`` keeps the newest).
    public static func loadEntities(from db: PostgresConnection) async throws -> [StoredEntity] {
        var result: [StoredEntity] = []
        for row in try await db.query(
            """
            SELECT kind, entity_id, txn_count, amount_count, mean_amount_base, max_amount_base, first_seen, last_seen,
                   rate_week, checkpoint_through
            FROM entity_history ORDER BY last_seen NULLS FIRST
            """)
        {
            guard let kind = EntityKind(rawValue: try row.decode(0, as: String.self)) else { continue }
            var s = EntityStats()
            s.count = try row.decode(2)
            s.amountCount = try row.decode(3)
            s.mean = try row.decode(4)
            s.maxAmount = try row.decode(5)
            s.firstSeen = try row.decodeIfPresent(6)
            s.lastSeen = try row.decodeIfPresent(7)
            s.decayedWeek = try row.decode(8)
            result.append(StoredEntity(key: EntityKey(kind, try row.decode(1)), stats: s, checkpointThrough: try row.decodeIfPresent(9)))
        }
        return result
    }

    /// Upserts histories inside the caller's transaction. `through`: every transaction
    /// with these entities received at or before it is counted in them.
    public static func saveEntities(_ entities: [EntityKey: EntityStats], through: Timestamp?, on db: isolated PostgresConnection) throws {
        guard !entities.isEmpty else { return }
        var copy = CopyTextEncoder(capacity: entities.count * 128)
        for (key, s) in entities {
            copy.append(key.kind.rawValue)
            copy.append(key.id)
            copy.append(s.count)
            copy.append(s.amountCount)
            copy.append(encodable: s.mean)
            copy.append(encodable: s.maxAmount)
            copy.append(encodable: s.firstSeen)
            copy.append(encodable: s.lastSeen)
            copy.append(encodable: s.decayedWeek)
            copy.append(encodable: through)
            copy.endRow()
        }
        try db.ensureTemporaryTable("incoming_entities") {
            try db.execute(
                """
                CREATE TEMPORARY TABLE IF NOT EXISTS incoming_entities
                (LIKE entity_history INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
                """)
        }
        try db.copyIn(
            """
            COPY incoming_entities (kind, entity_id, txn_count, amount_count, mean_amount_base, max_amount_base, first_seen,
                last_seen, rate_week, checkpoint_through) FROM STDIN
            """, data: copy.bytes)
        try db.execute(
            """
            INSERT INTO entity_history AS e (kind, entity_id, txn_count, amount_count, mean_amount_base, max_amount_base,
                first_seen, last_seen, rate_week, checkpoint_through, updated_at)
            SELECT kind, entity_id, txn_count, amount_count, mean_amount_base, max_amount_base, first_seen, last_seen,
                rate_week, checkpoint_through, now()
            FROM incoming_entities
            ON CONFLICT (kind, entity_id) DO UPDATE SET txn_count = EXCLUDED.txn_count,
                amount_count = EXCLUDED.amount_count, mean_amount_base = EXCLUDED.mean_amount_base,
                max_amount_base = EXCLUDED.max_amount_base, first_seen = EXCLUDED.first_seen,
                last_seen = EXCLUDED.last_seen, rate_week = EXCLUDED.rate_week, checkpoint_through = EXCLUDED.checkpoint_through,
                updated_at = now()
            """)
    }

    /// Transactions stored after the entity checkpoint marker (not late), in the order
    /// they were stored: what is replayed into the loaded histories, each only into a
    /// history whose row does not include it yet.
    public static func transactionsSinceEntityCheckpoint(from db: PostgresConnection) async throws -> [(
        transaction: Transaction, receivedAt: Timestamp
    )] {
        let rows = try await db.query(
            """
            SELECT t.id, t.event_time, t.account_id, t.card_id, t.amount_minor, t.currency, t.merchant_id, t.mcc,
                   t.country, t.channel, t.device_id, t.ip, t.latitude, t.longitude, t.received_at
            FROM transactions t
            WHERE t.received_at > (SELECT through FROM entity_checkpoints WHERE id = 1)
              AND NOT t.late
              AND NOT EXISTS (SELECT 1 FROM pending_evaluations e WHERE e.transaction_id = t.id)
            ORDER BY t.received_at, t.event_time
            """)
        return rows.compactMap { row in
            guard let tx = try? transaction(from: row), let receivedAt = try? row.decode(14, as: Timestamp.self) else { return nil }
            return (tx, receivedAt)
        }
    }
}
