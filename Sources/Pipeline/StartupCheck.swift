import Foundation
import Logging
import PostgresStore
import ServiceLifecycle

/// Waits for PostgreSQL at start, then checks that its schema is current.
///
/// `vigil serve` started while the database is down does not exit: the ops endpoint
/// answers (`/healthz` 200, `/readyz` 503 with the reason), the feed accepts connections
/// and backs up into TCP, and this check retries with capped backoff, logging what it
/// waits for. Once connected, a schema that is migrations behind is a configuration
/// error: it throws, and the process exits non-zero with the fix in the message.
public final class StartupCheck: Service, Sendable {
    private let database: PostgresConfiguration
    private let schemas: URL?
    private let health: PipelineHealth
    private let logger: Logger
    private let maximumDelay: Duration

    /// Creates the check; `schemas` is the folder of migrations to compare with (nil: skip).
    public init(
        database: PostgresConfiguration, schemas: URL?, health: PipelineHealth,
        maximumDelay: Duration = .seconds(5), logger: Logger = Logger(label: "vigil.startup")
    ) {
        var database = database
        database.applicationName = "vigil-startup"
        self.database = database
        self.schemas = schemas
        self.health = health
        self.maximumDelay = maximumDelay
        self.logger = logger
    }

    public func run() async throws {
        var delay = Duration.milliseconds(100)
        var attempts = 0
        var lastLogged: ContinuousClock.Instant?
        while true {
            try Task.checkCancellation()
            if Task.isShuttingDownGracefully { return }
            attempts += 1
            do {
                let schemas = self.schemas
                let pending: [Migration] = try await PostgresConnection.withConnection(database) { db in
                    guard let schemas else { return [] }
                    return try await Migrator(directory: schemas).pendingMigrations(on: db)
                }
                if let next = pending.first {
                    throw StartupCheckError(
                        message: """
                            the database schema is \(pending.count) migration(s) behind (next: \(next.version)_\(next.name)) — \
                            run `vigil migrate` first
                            """)
                }
                if attempts > 1 { logger.notice("PostgreSQL is reachable; starting the pipeline", metadata: ["attempts": "\(attempts)"]) }
                health.databaseVerified.raise()
                return
            } catch let error as PostgresError where error.isConnectionError {
                let now = ContinuousClock.now
                if lastLogged.map({ $0.duration(to: now) >= .seconds(30) }) ?? true {
                    lastLogged = now
                    logger.warning(
                        "waiting for PostgreSQL before starting the pipeline (not ready; the feed backs up meanwhile)",
                        metadata: ["error": "\(error)", "attempts": "\(attempts)", "retry_every": "\(maximumDelay)"])
                }
                try await Task.sleep(for: delay)
                delay = min(delay * 2, maximumDelay)
            }
        }
    }
}

/// The database was reached but cannot be used as it is.
public struct StartupCheckError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and what to do.
    public var message: String
    public var description: String { message }
}
