/// A few connections shared by concurrent callers (the investigator API's requests), each
/// opened on first need and dropped after a connection error so the next use reconnects.
///
/// A caller waits, in arrival order, when all `size` connections are busy: the pool bounds
/// what the API can ask of PostgreSQL, so investigator traffic cannot take connections
/// (and CPU) the feed's writer needs.
public actor PostgresPool {
    private let configuration: PostgresConfiguration
    private let size: Int
    private var idle: [PostgresConnection] = []
    private var open = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var closed = false

    /// Creates a pool of at most `size` connections (at least one).
    public init(configuration: PostgresConfiguration, size: Int) {
        self.configuration = configuration
        self.size = max(1, size)
    }

    /// Runs `body` with a connection of the pool.
    public func withConnection<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let db = try await checkOut()
        do {
            let result = try await body(db)
            checkIn(db)
            return result
        } catch let error as PostgresError where error.isConnectionError {
            await db.close()
            discard()
            throw error
        } catch {
            checkIn(db)
            throw error
        }
    }

    /// Closes the idle connections; busy ones close when they come back.
    public func close() async {
        closed = true
        let connections = idle
        idle.removeAll()
        open -= connections.count
        for connection in connections { await connection.close() }
    }

    private func checkOut() async throws -> PostgresConnection {
        while true {
            if let connection = idle.popLast() { return connection }
            if open < size {
                open += 1
                do {
                    return try await PostgresConnection.connect(configuration)
                } catch {
                    discard()
                    throw error
                }
            }
            await withCheckedContinuation { waiters.append($0) }
        }
    }

    private func checkIn(_ connection: PostgresConnection) {
        if closed {
            open -= 1
            Task { await connection.close() }
        } else {
            idle.append(connection)
        }
        wakeOne()
    }

    private func discard() {
        open -= 1
        wakeOne()
    }

    private func wakeOne() {
        guard !waiters.isEmpty else { return }
        waiters.removeFirst().resume()
    }
}
