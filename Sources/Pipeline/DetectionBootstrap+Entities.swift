import Detection
import PostgresStore
import VigilCore

extension DetectionBootstrap {
    /// Loads the stored card, device and merchant histories and replays into them the
    /// transactions stored since their checkpoint that their rows do not include yet, so
    /// they are what an uninterrupted run would hold. Returns the transactions replayed.
    func loadEntities(_ db: PostgresConnection, markDirty: Bool = true) async throws -> Int {
        let history = state.history
        var included: [EntityKey: Timestamp] = [:]
        for stored in try await DetectionStore.loadEntities(from: db) {
            history.load(stored.key, stored.stats)
            if let through = stored.checkpointThrough { included[stored.key] = through }
        }
        let since = try await DetectionStore.transactionsSinceEntityCheckpoint(from: db)
        let reference = state.reference.snapshot
        var replayed: [EntityKey: (stats: EntityStats, since: Timestamp)] = [:]
        for (tx, receivedAt) in since {
            let amount = reference.baseAmount(of: tx.amount)?.doubleValue
            let keys = [
                tx.cardID.map { EntityKey(.card, $0) }, tx.deviceID.map { EntityKey(.device, $0) },
                tx.merchantID.map { EntityKey(.merchant, $0) },
            ]
            for case let key? in keys {
                // Already in the row written at its last checkpoint.
                if let through = included[key], receivedAt <= through { continue }
                guard let after = history.observe(key, time: tx.timestamp, amountBase: amount, update: true).after else { continue }
                replayed[key] = (after, replayed[key]?.since ?? receivedAt)
            }
        }
        // Their rows are still behind: checkpoint them like any changed history.
        if markDirty, let dirtyEntities, let through = since.last?.receivedAt {
            dirtyEntities.addReplayed(replayed.map { ($0.key, $0.value.stats, $0.value.since) }, through: through)
        }
        return since.count
    }

    /// Sets every card's, device's and merchant's `reversals` from the counted reversals
    /// stored (the live writer counts each after its commit; this is the same sum). Run
    /// last before detection starts, after a start's load or a standby's final catch-up,
    /// while the reversal writer still waits for the state: nothing counts meanwhile.
    /// Returns the entities set.
    @discardableResult
    func loadReversals(_ db: PostgresConnection) async throws -> Int {
        let counts = try await DetectionStore.reversalCounts(from: db)
        for (key, count) in counts { state.history.setReversals(key, count) }
        return counts.count
    }
}
