import Synchronization

/// What `/readyz` reports: whether the pipeline can take traffic now.
public final class PipelineHealth: Sendable {
    private struct State {
        var databaseReachable = false
        var stateLoaded = true
        var detail = "starting"
    }
    private let state = Mutex(State())

    /// Creates a health record; `needsStateLoad` keeps it not ready until state is loaded.
    public init(needsStateLoad: Bool = false) {
        state.withLock { $0.stateLoaded = !needsStateLoad }
    }

    /// The writer reached PostgreSQL (or lost it).
    public func setDatabaseReachable(_ reachable: Bool, detail: String) {
        state.withLock {
            $0.databaseReachable = reachable
            $0.detail = detail
        }
    }

    /// Reference data and window state are (or are no longer) loaded.
    public func setStateLoaded(_ loaded: Bool) {
        state.withLock { $0.stateLoaded = loaded }
    }

    /// Ready to take traffic, and why not when not.
    public var readiness: (ready: Bool, detail: String) {
        state.withLock { s in
            if !s.databaseReachable { return (false, "PostgreSQL unreachable: \(s.detail)") }
            if !s.stateLoaded { return (false, "loading reference data and window state") }
            return (true, "ready")
        }
    }
}
