import CLibPQ
import Foundation
import VigilCore

/// One PostgreSQL connection through libpq, running on a thread of its own.
///
/// Every method runs on the connection's dedicated thread (the actor's executor), so
/// libpq's blocking calls never block Swift's cooperative pool. Methods are synchronous
/// inside the actor: a transaction body cannot suspend half-way and let another caller
/// slip statements into it. A connection that breaks reports `PostgresError` with code
/// `.connectionLost`; reconnecting is the caller's policy (open a new one).
public actor PostgresConnection {
    private nonisolated let thread: ConnectionThread
    /// The actor runs on its own thread; see the type's documentation.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { thread.asUnownedSerialExecutor() }
    /// The connection's thread as a task executor: a task that mostly talks to this
    /// connection runs there (`withTaskExecutorPreference`) and calls it without a hop.
    public nonisolated var taskExecutor: any TaskExecutor { thread }

    var connection: OpaquePointer?
    let configuration: PostgresConfiguration
    private var preparedNames: Set<String> = []
    /// Temporary tables created on this session (they live as long as the connection).
    private var temporaryTables: Set<String> = []
    /// Ingest batches left to store through the duplicate-tolerant path (see `copyTransactions`).
    var duplicateStreak = 0
    /// The current ingest transaction's start (`now()`, which is the same at every
    /// statement of a transaction), read by the query that began it; nil outside one.
    public internal(set) var transactionStart: Timestamp?

    private init(configuration: PostgresConfiguration) {
        self.configuration = configuration
        self.thread = ConnectionThread(name: "vigil-pg")
    }

    isolated deinit {
        if let connection { PQfinish(connection) }
        thread.stop()
    }

    /// Opens a connection; throws `.connectionFailed` with libpq's reason and advice.
    public static func connect(_ configuration: PostgresConfiguration = .fromEnvironment()) async throws -> PostgresConnection {
        let connection = PostgresConnection(configuration: configuration)
        try await connection.open()
        return connection
    }

    /// Opens a connection, runs `body` with it and closes it on every path, thrown errors
    /// and cancellation included (NIO's `executeThenClose` style: no `defer { Task { close } }`).
    public static func withConnection<Result: Sendable>(
        _ configuration: PostgresConfiguration = .fromEnvironment(),
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await connect(configuration)
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    private func open() throws {
        var keywords: [String] = ["dbname", "application_name"]
        var values: [String] = [configuration.connectionString, configuration.applicationName]
        if let databaseName = configuration.databaseName {
            // libpq: only the first dbname is expanded as a connection string; a later
            // one is a plain database name and wins.
            keywords.append("dbname")
            values.append(databaseName)
        }
        let env = ProcessInfo.processInfo.environment
        if env["PGCONNECT_TIMEOUT"] == nil && !configuration.connectionString.contains("connect_timeout") {
            keywords.append("connect_timeout")
            values.append("10")
        }
        let conn = withCStringArray(keywords) { kw in
            withCStringArray(values) { vals in
                PQconnectdbParams(kw, vals, 1)
            }
        }
        guard let conn, PQstatus(conn) == CONNECTION_OK else {
            let reason = conn.map { Self.errorText($0) } ?? "out of memory"
            if let conn { PQfinish(conn) }
            throw PostgresError(
                code: .connectionFailed,
                message: "cannot connect to PostgreSQL at \(configuration.targetDescription): \(reason)",
                hint: "set DATABASE_URL or the PGHOST/PGPORT/PGUSER/PGDATABASE variables"
            )
        }
        connection = conn
        // Times are UTC everywhere; ISO output is what `Timestamp(postgresText:)` reads.
        _ = try execute("SET TIME ZONE 'UTC'")
        _ = try execute("SET DateStyle = 'ISO'")
        // libpq prints NOTICEs to stderr by default; Vigil's own errors say what matters.
        _ = try execute("SET client_min_messages = warning")
    }

    /// Whether the connection is open and libpq considers it healthy.
    public var isConnected: Bool {
        guard let connection else { return false }
        return PQstatus(connection) == CONNECTION_OK
    }

    /// The server's process id for this session (for `pg_terminate_backend`).
    public var backendPID: Int32 {
        connection.map { PQbackendPID($0) } ?? 0
    }

    /// Closes the connection. Further calls throw `.connectionLost`.
    public func close() {
        if let connection { PQfinish(connection) }
        connection = nil
    }

    /// Runs one statement with its bind parameters and returns the rows.
    @discardableResult
    public func query(_ query: PostgresQuery) throws -> PostgresRows {
        let conn = try liveConnection()
        let result = try withBindings(query.bindings) { count, values in
            PQexecParams(conn, query.sql, Int32(count), nil, values, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Runs one statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ query: PostgresQuery) throws -> Int {
        try self.query(query).affectedRows
    }

    /// Runs SQL text that may hold several statements and no parameters (migrations).
    func executeScript(_ sql: String) throws {
        let conn = try liveConnection()
        _ = try consume(PQexec(conn, sql))
    }

    /// Sends SQL text that may hold several statements and no parameters as one query (one
    /// round trip) and reads the rows of each statement, in order, up to a `COPY ... FROM
    /// STDIN`: the query then waits for the COPY's data (`copyStarted`), and the caller
    /// streams it (see `copyIn`). A failing statement stops the query there and its error
    /// is thrown once the query's results are drained.
    func simpleQuery(_ sql: String) throws -> (results: [PostgresRows], copyStarted: Bool) {
        let conn = try liveConnection()
        guard PQsendQuery(conn, sql) == 1 else {
            throw connectionError(fallback: "the query could not be sent")
        }
        var results: [PostgresRows] = []
        var failure: (any Error)?
        while let result = PQgetResult(conn) {
            if PQresultStatus(result) == PGRES_COPY_IN {
                PQclear(result)
                return (results, true)
            }
            do {
                let rows = try consume(result)
                if failure == nil { results.append(rows) }
            } catch {
                if failure == nil { failure = error }
            }
        }
        if let failure { throw failure }
        return (results, false)
    }

    /// Prepares a named statement on this connection; idempotent per name.
    public func prepare(_ name: String, _ query: PostgresQuery) throws -> PreparedStatement {
        let statement = PreparedStatement(name: name)
        guard !preparedNames.contains(name) else { return statement }
        let conn = try liveConnection()
        _ = try consume(PQprepare(conn, name, query.sql, 0, nil))
        preparedNames.insert(name)
        return statement
    }

    /// Executes a statement prepared on this connection with the given parameters.
    @discardableResult
    public func query(_ statement: PreparedStatement, _ bindings: [PostgresBinding]) throws -> PostgresRows {
        guard preparedNames.contains(statement.name) else {
            throw PostgresError(code: .misuse, message: "statement \(statement.name) was not prepared on this connection")
        }
        let conn = try liveConnection()
        let result = try withBindings(bindings) { count, values in
            PQexecPrepared(conn, statement.name, Int32(count), values, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Runs `body` in a database transaction: COMMIT when it returns, ROLLBACK when it
    /// throws. The body is synchronous so nothing else can run on this connection
    /// between BEGIN and COMMIT.
    public func transaction<T: Sendable>(_ body: @Sendable (isolated PostgresConnection) throws -> T) throws -> T {
        try inTransaction { try body(self) }
    }

    /// BEGIN, `body`, COMMIT — or ROLLBACK when `body` throws. For code already
    /// isolated to this connection.
    ///
    /// With `bodyBegins`, the body's first statement begins the transaction itself (it
    /// runs `BEGIN` in the same query as its own first statement, a round trip saved).
    func inTransaction<T>(bodyBegins: Bool = false, _ body: () throws -> T) throws -> T {
        if !bodyBegins { try execute("BEGIN") }
        defer { transactionStart = nil }
        let value: T
        do {
            value = try body()
        } catch {
            if isConnected { _ = try? execute("ROLLBACK") }
            forgetTemporaryTables()
            throw error
        }
        let conn = try liveConnection()
        let result = PQexec(conn, "COMMIT")
        let status = result.map { String(cString: PQcmdStatus($0)) }
        do {
            _ = try consume(result)
        } catch {
            forgetTemporaryTables()
            throw error
        }
        // A COMMIT of an aborted transaction "succeeds" with status ROLLBACK.
        if status == "ROLLBACK" {
            forgetTemporaryTables()
            throw PostgresError(code: .server, sqlState: "40000", message: "the transaction was rolled back by the server instead of committed")
        }
        return value
    }

    /// Runs `create` once per connection for the temporary table `name`: saves a round
    /// trip per batch. If the transaction that created it rolls back, so does the table,
    /// so the name is remembered only after `create` succeeds and is forgotten on error.
    public func ensureTemporaryTable(_ name: String, _ create: () throws -> Void) throws {
        guard !temporaryTables.contains(name) else { return }
        try create()
        temporaryTables.insert(name)
    }

    /// Forgets temporary tables (after a rollback that may have dropped them).
    func forgetTemporaryTables() {
        temporaryTables.removeAll()
    }

    func liveConnection() throws -> OpaquePointer {
        guard let connection else {
            throw PostgresError(code: .connectionLost, message: "the PostgreSQL connection is closed", hint: "open a new connection")
        }
        return connection
    }

    /// Turns a libpq result into rows or a typed error, and frees it.
    func consume(_ result: OpaquePointer?) throws -> PostgresRows {
        guard let result else {
            throw connectionError(fallback: "PostgreSQL returned no result")
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_EMPTY_QUERY:
            return Self.rows(of: result)
        default:
            if let connection, PQstatus(connection) != CONNECTION_OK {
                throw connectionError(fallback: String(cString: PQresultErrorMessage(result)))
            }
            throw Self.serverError(result)
        }
    }

    func connectionError(fallback: String) -> PostgresError {
        var text = fallback
        if let connection {
            let libpq = Self.errorText(connection)
            if !libpq.isEmpty { text = libpq }
        }
        if text.isEmpty { text = "the connection to PostgreSQL was lost" }
        return PostgresError(
            code: .connectionLost, message: "lost the connection to PostgreSQL: \(text)", hint: "open a new connection; the server may have restarted"
        )
    }

    static func serverError(_ result: OpaquePointer) -> PostgresError {
        func field(_ code: Int32) -> String? {
            guard let p = PQresultErrorField(result, code) else { return nil }
            return String(cString: p)
        }
        let sqlState = field(Int32(UInt8(ascii: "C")))
        let message = field(Int32(UInt8(ascii: "M"))) ?? String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
        let code: PostgresError.Code = (sqlState.map { $0.hasPrefix("08") || $0.hasPrefix("57P") } == true) ? .connectionLost : .server
        return PostgresError(
            code: code, sqlState: sqlState, message: message,
            detail: field(Int32(UInt8(ascii: "D"))), hint: field(Int32(UInt8(ascii: "H")))
        )
    }

    static func errorText(_ conn: OpaquePointer) -> String {
        guard let p = PQerrorMessage(conn) else { return "" }
        return String(cString: p).trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "\n", with: "; ")
    }

    static func rows(of result: OpaquePointer) -> PostgresRows {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        var columns: [String] = []
        columns.reserveCapacity(columnCount)
        for c in 0..<columnCount {
            columns.append(PQfname(result, Int32(c)).map { String(cString: $0) } ?? "?column?")
        }
        var cells: [String?] = []
        cells.reserveCapacity(rowCount * columnCount)
        for r in 0..<rowCount {
            for c in 0..<columnCount {
                if PQgetisnull(result, Int32(r), Int32(c)) == 1 {
                    cells.append(nil)
                } else {
                    cells.append(PQgetvalue(result, Int32(r), Int32(c)).map { String(cString: $0) } ?? "")
                }
            }
        }
        let tuples = PQcmdTuples(result).map { String(cString: $0) } ?? ""
        return PostgresRows(columns: columns, cells: cells, affectedRows: Int(tuples) ?? rowCount)
    }
}

/// A statement prepared on one connection, executed by name.
public struct PreparedStatement: Sendable, Hashable {
    /// The statement's name on the server.
    public let name: String
}
