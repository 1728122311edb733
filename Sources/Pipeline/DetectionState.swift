import Detection
import RuleLanguage
import Supervision
import Synchronization
import VigilCore

/// The ruleset in force, swapped atomically between batches on reload.
public final class RulesetBox: Sendable {
    private let current: Mutex<CompiledRuleset>
    /// Creates the box with the ruleset loaded at start.
    public init(_ ruleset: CompiledRuleset) {
        current = Mutex(ruleset)
    }
    /// The ruleset in force now.
    public var ruleset: CompiledRuleset { current.withLock { $0 } }
    /// Replaces the ruleset; batches already being evaluated finish with the old one.
    public func replace(with ruleset: CompiledRuleset) { current.withLock { $0 = ruleset } }
}

/// Reference data in force, replaced whole on refresh (readers never wait on a load).
public final class ReferenceBox: Sendable {
    private let current: Mutex<ReferenceSnapshot>
    /// Creates the box with an empty snapshot.
    public init(baseCurrency: String) {
        current = Mutex(ReferenceSnapshot(baseCurrency: baseCurrency))
    }
    /// The snapshot in force.
    public var snapshot: ReferenceSnapshot { current.withLock { $0 } }
    /// Installs a freshly loaded snapshot.
    public func replace(with snapshot: ReferenceSnapshot) { current.withLock { $0 = snapshot } }
}

/// The state one detection worker owns: its accounts' profiles and account-keyed
/// windows. Held in a lock only so it can be handed from the bootstrap to the worker
/// and survive the worker's restarts; one worker uses it at a time.
public final class PartitionState: Sendable {
    let state: Mutex<PartitionMemory>

    init(specs: [WindowSpec]) {
        state = Mutex(PartitionMemory(specs: specs))
    }
}

/// Everything detection shares across workers and restarts.
public final class DetectionState: Sendable {
    /// The ruleset in force.
    public let rules: RulesetBox
    /// Reference data in force.
    public let reference: ReferenceBox
    /// Per-worker state, by partition.
    public let partitions: [PartitionState]
    /// Windows keyed by card, device, ip, ... (shared, sharded, locked); replaced on reload.
    private let sharedBox: Mutex<SharedWindows>
    /// The shared windows in force.
    public var shared: SharedWindows { sharedBox.withLock { $0 } }
    /// Card, device and merchant histories (shared, sharded, locked; kept across reloads).
    public let history: SharedHistory
    /// Set once profiles and windows have been loaded at start.
    let ready = OneShotSignal()
    /// How far before its account's newest transaction a record may be dated and still
    /// count in windows and the profile (see "Late records" in docs/rules-language.md).
    public let allowedLateness: Duration
    let allowedLatenessMicroseconds: Int64

    /// Creates empty state for `ruleset`, split over `partitionCount` workers.
    public init(
        ruleset: CompiledRuleset, baseCurrency: String, partitionCount: Int, allowedLateness: Duration = .seconds(300),
        historyLimits: SharedHistory.Limits = .init()
    ) {
        history = SharedHistory(limits: historyLimits)
        self.allowedLateness = allowedLateness
        let parts = allowedLateness.components
        allowedLatenessMicroseconds = max(0, parts.seconds &* 1_000_000 &+ parts.attoseconds / 1_000_000_000_000)
        rules = RulesetBox(ruleset)
        reference = ReferenceBox(baseCurrency: baseCurrency)
        let accountWindows = ruleset.windows.filter { $0.key == .accountID }
        partitions = (0..<max(1, partitionCount)).map { _ in PartitionState(specs: accountWindows) }
        sharedBox = Mutex(SharedWindows(specs: ruleset.windows.filter { $0.key != .accountID }))
    }

    /// Installs a reloaded ruleset between batches: each partition is locked in turn
    /// (its worker waits), windows whose definition is unchanged keep their state, new
    /// or changed windows start empty and are rebuilt by replaying `recent` (the stored
    /// transactions of their span). Returns the names of the rebuilt windows.
    @discardableResult
    public func install(_ ruleset: CompiledRuleset, replaying recent: [Transaction]) -> [String] {
        let oldSpecs = rules.ruleset.windows.filter { $0.key == .accountID }
        let newSpecs = ruleset.windows.filter { $0.key == .accountID }
        let (newShared, freshShared) = shared.migrated(to: ruleset.windows.filter { $0.key != .accountID })
        let freshAccount = newSpecs.filter { spec in !oldSpecs.contains { spec.keepsState(of: $0) } }
        let fresh = Set((freshAccount + freshShared).map(\.name))
        let reference = self.reference.snapshot
        let lists = reference.listSnapshot(for: ruleset)
        var record = EvaluationRecord(for: ruleset)
        // Lock every partition for the swap so no batch sees half a reload.
        func swapAll(_ index: Int) {
            guard index < partitions.count else {
                sharedBox.withLock { $0 = newShared }
                rules.replace(with: ruleset)
                for tx in recent where !fresh.isEmpty {
                    _ = Enricher.fill(&record, transaction: tx, reference: reference, profile: nil)
                    newShared.observe(&record, lists: lists, only: fresh)
                }
                return
            }
            partitions[index].state.withLock { partition in
                partition.windows = newSpecs.map { spec in
                    if let i = oldSpecs.firstIndex(where: { spec.keepsState(of: $0) }),
                        i < partition.windows.count
                    {
                        return partition.windows[i]
                    }
                    return WindowState(specs: [spec])
                }
                for tx in recent where !freshAccount.isEmpty && self.partition(of: tx.accountID) == index {
                    _ = Enricher.fill(&record, transaction: tx, reference: reference, profile: nil)
                    for (i, spec) in newSpecs.enumerated() where fresh.contains(spec.name) {
                        partition.windows[i].observe(&record, lists: lists)
                    }
                }
                swapAll(index + 1)
            }
        }
        swapAll(0)
        return fresh.sorted()
    }

    /// Empties profiles, windows and histories, keeping the ruleset and reference data: a
    /// standby's state load that failed part-way starts again from nothing.
    func removeLoadedState() {
        let specs = rules.ruleset.windows
        for partition in partitions {
            partition.state.withLock { $0 = PartitionMemory(specs: specs.filter { $0.key == .accountID }) }
        }
        sharedBox.withLock { $0 = SharedWindows(specs: specs.filter { $0.key != .accountID }) }
        history.removeAll()
    }

    /// The partition that owns `account` (stable across runs).
    public func partition(of account: String) -> Int {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in account.utf8 {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
        return Int(value % UInt64(partitions.count))
    }

    /// The longest window of the ruleset: how far back state is rebuilt at start.
    public var longestWindow: Duration {
        .microseconds(rules.ruleset.windows.map(\.duration).max() ?? 0)
    }
}
