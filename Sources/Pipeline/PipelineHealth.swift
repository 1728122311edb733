import Metrics
import Supervision
import Synchronization
import VigilCore

/// What `/readyz` reports: whether the pipeline can accept and commit transactions now.
///
/// Ready means all of: the start-up check reached PostgreSQL and found its schema current,
/// reference data and window state are loaded, the writer holds a working connection, and
/// a live probe of the database (see ``DatabaseProbe``) answers. During a PostgreSQL outage
/// it is not ready while `/healthz` stays 200: the process is alive and waits.
public final class PipelineHealth: Sendable {
    private struct State {
        var writerConnected = false
        var writerDetail = "the writer has not connected yet"
        var stateLoaded = true
    }
    private let state = Mutex(State())
    /// Raised once the start-up check reached PostgreSQL and found the schema current;
    /// the stages that write wait for it.
    public let databaseVerified = OneShotSignal()
    private let reachableGauge = Gauge(label: "vigil_database_reachable")
    /// With `--ha`: a standby (or a node that lost the lease) is not ready.
    let leadership: Leadership?

    /// Creates a health record; `needsStateLoad` keeps it not ready until state is loaded.
    /// Without a start-up check (`verified`), the database counts as verified at once.
    public init(needsStateLoad: Bool = false, verified: Bool = true, leadership: Leadership? = nil) {
        self.leadership = leadership
        state.withLock { $0.stateLoaded = !needsStateLoad }
        if verified { databaseVerified.raise() }
    }

    /// The writer reached PostgreSQL (or lost it).
    public func setDatabaseReachable(_ reachable: Bool, detail: String) {
        state.withLock {
            $0.writerConnected = reachable
            $0.writerDetail = detail
        }
        reachableGauge.record(reachable ? 1 : 0)
    }

    /// Reference data and window state are (or are no longer) loaded.
    public func setStateLoaded(_ loaded: Bool) {
        state.withLock { $0.stateLoaded = loaded }
    }

    /// Ready to take traffic as far as the stages know, and why not when not (no live probe).
    public var readiness: (ready: Bool, detail: String) {
        if let reason = leadership?.notReadyReason { return (false, reason) }
        guard databaseVerified.isRaised else { return (false, "waiting for PostgreSQL (start-up check)") }
        return state.withLock { s in
            if !s.writerConnected { return (false, "PostgreSQL unreachable: \(s.writerDetail)") }
            if !s.stateLoaded { return (false, "loading reference data and window state") }
            return (true, "ready")
        }
    }

    /// What `/readyz` adds with `--ha`: the role, and the leader's feed address or the epoch.
    var readyFields: [(String, String)] { leadership?.readyFields ?? [] }

    /// `readiness` combined with a live probe of the database: the `/readyz` answer.
    public func check(probe: DatabaseProbe?) async -> (ready: Bool, detail: String) {
        let known = readiness
        guard known.ready, let probe else { return known }
        let live = await probe.check()
        if !live.ok {
            reachableGauge.record(0)
            return (false, "PostgreSQL unreachable: \(live.detail)")
        }
        return known
    }

    /// The `/readyz` body: `{"status":"ready"}` or `{"status":"not_ready","reason":"..."}`.
    public static func readyBody(_ readiness: (ready: Bool, detail: String), extra: [(String, String)] = []) -> String {
        var fields = [("status", readiness.ready ? "ready" : "not_ready")]
        if !readiness.ready { fields.append(("reason", readiness.detail)) }
        fields += extra
        return "{" + fields.map { "\(JSONText.quoted($0.0)):\(JSONText.quoted($0.1))" }.joined(separator: ",") + "}\n"
    }

    /// The `/healthz` answer from the supervisors' status: alive unless one has failed or
    /// given up on a child (a stage waiting out a database outage is alive).
    public static func liveness(_ statuses: [SupervisorStatus]) -> (alive: Bool, body: String) {
        let failed = statuses.filter { !$0.isAlive }
        if failed.isEmpty { return (true, #"{"status":"ok"}"# + "\n") }
        let names = failed.map { status -> String in
            let children = status.children.filter { !$0.isAlive }.map(\.name)
            return children.isEmpty ? status.name : status.name + "/" + children.joined(separator: ",")
        }
        return (false, "{\"status\":\"failed\",\"failed\":\(JSONText.quoted(names.joined(separator: "; ")))}\n")
    }
}
