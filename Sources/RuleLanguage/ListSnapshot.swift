/// Contents of the ruleset's `table` lists at one moment, as the pipeline read them from
/// the `lists` table. Pass the same snapshot to every evaluation until the next refresh;
/// its `version` can be recorded with each decision.
public struct ListSnapshot: Sendable {
    /// Sets by list slot (`ListSpec.slot`); `nil` where a list has not been loaded.
    public var sets: [Set<String>?]
    /// An opaque version (e.g. the max `updated_at` of the rows read), recorded with decisions.
    public var version: String

    /// An empty snapshot: every `table` list is unavailable (rules using one report an error).
    public static let empty = ListSnapshot(sets: [], version: "empty")

    /// Creates a snapshot from sets by slot.
    public init(sets: [Set<String>?], version: String) {
        self.sets = sets
        self.version = version
    }

    /// Creates a snapshot for `ruleset` from contents by list name (names not declared as
    /// `table` lists are ignored).
    public init(ruleset: CompiledRuleset, contents: [String: Set<String>], version: String) {
        var sets = [Set<String>?](repeating: nil, count: ruleset.lists.count)
        for list in ruleset.lists {
            if case .table(let table) = list.source, let set = contents[table] ?? contents[list.name] { sets[list.slot] = set }
        }
        self.init(sets: sets, version: version)
    }

    /// The set for a slot, if loaded.
    @inline(__always)
    func set(_ slot: Int) -> Set<String>? {
        slot < sets.count ? sets[slot] : nil
    }
}
