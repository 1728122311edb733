import Detection
import PostgresStore
import ServiceLifecycle
import VigilCore

extension DetectionBootstrap {
    /// A standby's part (`vigil serve --ha`): loads state as a start does, in one snapshot
    /// whose newest row is where ``StandbyTail`` takes over, then applies what the leader
    /// commits every `tail.interval` until this node takes the lease. Then it catches up
    /// the last commits (the old leader is fenced: nothing more of its commits) and hands
    /// the histories and profiles whose rows are behind to the checkpointers, as a start
    /// would. Returns true when this node leads with current state, false when it stops.
    func standBy(_ db: PostgresConnection, leadership: Leadership, baseCurrency: String) async throws -> Bool {
        let (loaded, partial) = tail.progress.withLock { ($0.loaded, $0.started) }
        if !loaded {
            if partial { state.removeLoadedState() }  // a load that failed part-way
            tail.progress.withLock { $0.started = true }
            let started = ContinuousClock.now
            try await db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            do {
                try await loadState(db, markDirty: false)
                let position = try await DetectionStore.latestPosition(on: db)
                let pending = try await DetectionStore.pendingIDs(on: db)
                try await db.execute("COMMIT")
                tail.progress.withLock {
                    $0.position = position
                    $0.pending = pending
                    $0.loaded = true
                }
                logger.notice(
                    "standby: detection state loaded; applying the leader's commits until this node leads",
                    metadata: ["took": "\(ContinuousClock.now - started)", "through": "\(position)", "pending": "\(pending.count)"])
            } catch {
                _ = try? await db.execute("ROLLBACK")
                throw error
            }
        }
        var lastRead = ContinuousClock.now - tail.interval
        while !leadership.acquired.isRaised {
            if Task.isCancelled || Task.isShuttingDownGracefully { return false }
            // Short waits, so a takeover is seen within 50 ms.
            try await reloadReference(db, baseCurrency: baseCurrency, waiting: .milliseconds(50))
            if ContinuousClock.now - lastRead >= tail.interval {
                lastRead = .now
                try await tail.catchUp(db, state: state)
            }
        }
        guard case .leader = leadership.role else { return false }
        let started = ContinuousClock.now
        let applied = try await tail.catchUp(db, state: state)
        let marked = try await markBehindCheckpoints(db)
        logger.notice(
            "took over with warm detection state: applied the last commits",
            metadata: [
                "applied": "\(applied)", "profiles_to_checkpoint": "\(marked.profiles)", "histories_to_checkpoint": "\(marked.entities)",
                "took": "\(ContinuousClock.now - started)",
            ])
        return true
    }

    /// Hands the profiles and histories whose rows lack transactions stored since their
    /// checkpoint to the checkpointers (what a start marks after its replay), with the
    /// values this node holds, which count those transactions.
    private func markBehindCheckpoints(_ db: PostgresConnection) async throws -> (profiles: Int, entities: Int) {
        var counts = (profiles: 0, entities: 0)
        if let dirtyProfiles {
            let behind = try await DetectionStore.profilesBehindCheckpoint(on: db)
            if let through = behind.through {
                let rows = behind.accounts.compactMap { entry -> (account: String, profile: AccountProfile, since: Timestamp)? in
                    let profile = state.partitions[state.partition(of: entry.account)].state.withLock { $0.profiles[entry.account] }
                    return profile.map { (entry.account, $0, entry.since) }
                }
                dirtyProfiles.addReplayed(rows, through: through)
                counts.profiles = rows.count
            }
        }
        if let dirtyEntities {
            let behind = try await DetectionStore.entitiesBehindCheckpoint(on: db)
            if let through = behind.through {
                let rows = behind.entities.compactMap { entry -> (account: EntityKey, profile: EntityStats, since: Timestamp)? in
                    state.history.stats(entry.key).map { (entry.key, $0, entry.since) }
                }
                dirtyEntities.addReplayed(rows, through: through)
                counts.entities = rows.count
            }
        }
        return counts
    }
}
