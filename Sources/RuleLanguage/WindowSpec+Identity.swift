extension WindowSpec {
    /// Whether state kept for `old` (a window of the ruleset being replaced) is valid for
    /// this window: same name, same definition, and same slot in `EvaluationRecord.windows`
    /// (state built for a spec writes its value to that spec's slot). Anything else starts
    /// empty and is rebuilt from stored transactions on reload.
    public func keepsState(of old: WindowSpec) -> Bool {
        name == old.name && identity == old.identity && slot == old.slot
    }
}
