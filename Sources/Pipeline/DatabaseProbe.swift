import PostgresStore
import Synchronization

/// A live check that PostgreSQL answers, for `/readyz`.
///
/// Keeps one connection of its own and runs `SELECT 1` on it within `timeout`; a failed or
/// slow probe drops the connection so the next one reconnects. Results are reused for
/// `cacheFor`, and while a probe is in flight other callers get the last result, so a
/// load balancer polling hard costs PostgreSQL at most one query per `cacheFor`.
public final class DatabaseProbe: Sendable {
    private struct State {
        var connection: PostgresConnection?
        var last: (ok: Bool, detail: String, at: ContinuousClock.Instant)?
        var inFlight = false
    }
    private let state = Mutex(State())
    private let database: PostgresConfiguration
    private let timeout: Duration
    private let cacheFor: Duration

    /// Creates a probe of `database`; nothing connects until the first check.
    public init(database: PostgresConfiguration, timeout: Duration = .seconds(2), cacheFor: Duration = .milliseconds(500)) {
        var database = database
        database.applicationName = "vigil-readyz"
        self.database = database
        self.timeout = timeout
        self.cacheFor = cacheFor
    }

    /// Whether PostgreSQL answered a query just now (or within `cacheFor`), and why not.
    public func check() async -> (ok: Bool, detail: String) {
        let now = ContinuousClock.now
        let cached: (ok: Bool, detail: String)? = state.withLock { s in
            if let last = s.last, last.at.duration(to: now) < cacheFor || s.inFlight { return (last.ok, last.detail) }
            if s.inFlight { return (false, "probe in progress") }
            s.inFlight = true
            return nil
        }
        if let cached { return cached }
        let existing = state.withLock { s in
            defer { s.connection = nil }
            return s.connection
        }
        let result = await probe(existing)
        state.withLock { s in
            s.inFlight = false
            s.last = (result.ok, result.detail, .now)
            if result.ok { s.connection = result.connection }
        }
        if !result.ok, let connection = result.connection { Task { await connection.close() } }
        return (result.ok, result.detail)
    }

    private func probe(_ existing: PostgresConnection?) async -> (ok: Bool, detail: String, connection: PostgresConnection?) {
        let database = self.database
        let attempt = Task { () -> (ok: Bool, detail: String, connection: PostgresConnection?) in
            var connection = existing
            do {
                if connection == nil { connection = try await PostgresConnection.connect(database) }
                guard let connection else { return (false, "no connection", nil) }
                _ = try await connection.execute("SELECT 1")
                return (true, "ok", connection)
            } catch {
                return (false, "\(error)", connection)
            }
        }
        let timeout = self.timeout
        typealias Outcome = (ok: Bool, detail: String, connection: PostgresConnection?)
        // A race between the attempt and the clock; the first to finish answers. (A task
        // group would wait for the attempt anyway: a libpq call in progress cannot be
        // interrupted, which is exactly the case the timeout is for.)
        return await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
            let answered = AnsweredFlag()
            let answer: @Sendable (Outcome) -> Bool = { outcome in
                let first = answered.done.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: outcome) }
                return first
            }
            let clock = Task {
                try? await Task.sleep(for: timeout)
                _ = answer((false, "PostgreSQL did not answer within \(timeout)", nil))
            }
            Task {
                let outcome = await attempt.value
                clock.cancel()
                // Too late: the caller was told it timed out; this connection is not kept.
                if !answer(outcome), let connection = outcome.connection { await connection.close() }
            }
        }
    }
}

/// Whether a race has been answered (a class, so escaping closures can share the lock).
private final class AnsweredFlag: Sendable {
    let done = Mutex(false)
}
