import PostgresStore
import VigilCore

/// Reversals as rules see them (`card.reversals`, ...): the counted rows of `reversals`
/// (migration 0023) with the card, device and merchant of the transaction each reversed.
extension DetectionStore {
    /// Every card, device and merchant with a counted reversal and how many, as stored
    /// now: what the live histories held when the last of them was counted. Reversals are
    /// rare next to transactions, so this is read whole at start and at a takeover rather
    /// than checkpointed with the histories.
    public static func reversalCounts(from db: PostgresConnection) async throws -> [(key: EntityKey, count: Int64)] {
        var result: [(key: EntityKey, count: Int64)] = []
        for row in try await db.query(
            """
            SELECT e.kind, e.entity_id, count(*)
            FROM reversals r JOIN transactions t ON t.id = r.original_id
            CROSS JOIN LATERAL (VALUES ('card', t.card_id), ('device', t.device_id), ('merchant', t.merchant_id)) e (kind, entity_id)
            WHERE r.counted AND e.entity_id IS NOT NULL
            GROUP BY e.kind, e.entity_id
            """)
        {
            guard let kind = EntityKind(rawValue: try row.decode(0, as: String.self)) else { continue }
            result.append((EntityKey(kind, try row.decode(1)), try row.decode(2)))
        }
        return result
    }

    /// One counted reversal: when it was stored and the entities of what it reversed.
    public struct CountedReversal: Sendable, Hashable {
        /// `received_at` of the reversal.
        public var receivedAt: Timestamp
        /// The reversed transaction's card, device and merchant (those it has).
        public var keys: [EntityKey]
    }

    /// Every counted reversal, oldest first (for a backtest, which applies each to the
    /// histories once its replay reaches a transaction received after it).
    public static func countedReversals(from db: PostgresConnection) async throws -> [CountedReversal] {
        var result: [CountedReversal] = []
        for row in try await db.query(
            """
            SELECT r.received_at, t.card_id, t.device_id, t.merchant_id
            FROM reversals r JOIN transactions t ON t.id = r.original_id
            WHERE r.counted
            ORDER BY r.received_at, r.id
            """)
        {
            result.append(CountedReversal(receivedAt: try row.decode(0), keys: try reversedKeys(row, from: 1)))
        }
        return result
    }

    /// The card, device and merchant in columns `from`, `from + 1`, `from + 2` (absent ones left out).
    public static func reversedKeys(_ row: PostgresRow, from column: Int) throws -> [EntityKey] {
        var keys: [EntityKey] = []
        if let id = try row.decodeIfPresent(column, as: String.self) { keys.append(EntityKey(.card, id)) }
        if let id = try row.decodeIfPresent(column + 1, as: String.self) { keys.append(EntityKey(.device, id)) }
        if let id = try row.decodeIfPresent(column + 2, as: String.self) { keys.append(EntityKey(.merchant, id)) }
        return keys
    }
}
