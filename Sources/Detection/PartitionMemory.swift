import RuleLanguage

/// What one detection partition remembers between transactions: its accounts' profiles,
/// its account-keyed windows, and the ids it has seen recently. One worker owns it, so
/// it is a plain value that `Detector.detect` updates in place.
public struct PartitionMemory: Sendable {
    /// Profiles of the partition's accounts.
    public var profiles: [String: AccountProfile] = [:]
    /// One state per account-keyed window, in the ruleset's order.
    public var windows: [WindowState]
    /// Ids processed recently (to tell an in-flight replay from a new record).
    private(set) var recentIDs: Set<String> = []
    private var recentOrder: [String] = []

    /// Empty memory for the account-keyed windows `specs`.
    public init(specs: [WindowSpec]) {
        windows = specs.map { WindowState(specs: [$0]) }
    }

    /// Remembers `id`; false when it was seen recently (a replay that must not count twice).
    /// Bounded: the last 100,000 to 120,000 ids are kept.
    public mutating func firstSighting(of id: String) -> Bool {
        guard recentIDs.insert(id).inserted else { return false }
        recentOrder.append(id)
        if recentOrder.count > 120_000 {
            for old in recentOrder.prefix(20_000) { recentIDs.remove(old) }
            recentOrder.removeFirst(20_000)
        }
        return true
    }
}
