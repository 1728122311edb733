import CLibPQ
import VigilCore

extension PostgresConnection {
    /// Streams the rows of a `COPY (...) TO STDOUT` statement (text format) to `row`, one
    /// line at a time without its newline, and returns how many rows there were.
    ///
    /// The rows are handed over on the connection's thread as libpq receives them, so a
    /// result of any size streams in constant memory while the server keeps producing
    /// (its backend runs in parallel, filling the socket). `row` may throw to stop early:
    /// the connection is reset so it is usable afterwards.
    @discardableResult
    public func copyOut(_ statement: PostgresQuery, row: (UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Int {
        guard statement.bindings.isEmpty else {
            throw PostgresError(code: .misuse, message: "COPY takes no bind parameters")
        }
        let conn = try liveConnection()
        guard let start = PQexec(conn, statement.sql) else {
            throw connectionError(fallback: "COPY could not start")
        }
        guard PQresultStatus(start) == PGRES_COPY_OUT else {
            _ = try consume(start)
            throw PostgresError(code: .copyFailed, message: "the statement is not a COPY ... TO STDOUT")
        }
        PQclear(start)
        var rows = 0
        var stopped: (any Error)?
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(conn, &buffer, 0)
            if length == -1 { break }  // done: the final result follows
            if length < 0 {
                throw connectionError(fallback: "COPY TO STDOUT failed while reading")
            }
            guard let buffer else { continue }
            defer { PQfreemem(buffer) }
            if stopped != nil { continue }  // drain what the server already sent
            // Each buffer is exactly one row, newline included.
            let count = Int(length) > 0 && buffer[Int(length) - 1] == 10 ? Int(length) - 1 : Int(length)
            do {
                try buffer.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
                    try row(UnsafeBufferPointer(start: $0, count: count))
                }
                rows += 1
            } catch {
                stopped = error
                // Ask the server to stop sending; what is already on its way is drained above.
                if let cancel = PQgetCancel(conn) {
                    var message = [CChar](repeating: 0, count: 256)
                    _ = PQcancel(cancel, &message, Int32(message.count))
                    PQfreeCancel(cancel)
                }
            }
        }
        var firstError: (any Error)?
        while let result = PQgetResult(conn) {
            do { _ = try consume(result) } catch { if firstError == nil { firstError = error } }
        }
        if let stopped { throw stopped }
        if let firstError { throw firstError }
        return rows
    }
}

/// Reads the fields of one COPY text-format row: tab-separated, `\N` for NULL, backslash
/// escapes undone. The row's bytes must outlive the reader.
public struct CopyTextRow {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    private var scratch: [UInt8] = []

    /// A reader at the row's first field.
    public init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The next field as text; `nil` for NULL. Throws when the row has no field left.
    public mutating func next() throws -> String? {
        guard position <= bytes.count else {
            throw PostgresError(code: .decoding, message: "COPY row has fewer fields than expected")
        }
        let start = position
        var end = start
        var escaped = false
        while end < bytes.count, bytes[end] != 9 {
            if bytes[end] == 92 { escaped = true }
            end += 1
        }
        position = end + 1
        let field = UnsafeBufferPointer(rebasing: bytes[start..<end])
        if field.count == 2, field[0] == 92, field[1] == 78 { return nil }  // \N
        guard escaped else { return String(decoding: field, as: UTF8.self) }
        scratch.removeAll(keepingCapacity: true)
        var i = 0
        while i < field.count {
            let byte = field[i]
            if byte == 92, i + 1 < field.count {
                i += 1
                switch field[i] {
                case 110: scratch.append(10)  // \n
                case 116: scratch.append(9)  // \t
                case 114: scratch.append(13)  // \r
                case 98: scratch.append(8)  // \b
                case 102: scratch.append(12)  // \f
                case 118: scratch.append(11)  // \v
                default: scratch.append(field[i])
                }
            } else {
                scratch.append(byte)
            }
            i += 1
        }
        return String(decoding: scratch, as: UTF8.self)
    }

    /// The next field as an integer; `nil` for NULL. Throws when it is not one.
    public mutating func nextInt64() throws -> Int64? {
        guard let text = try next() else { return nil }
        guard let value = Int64(text) else {
            throw PostgresError(code: .decoding, message: "COPY field is not an integer: \(text)")
        }
        return value
    }

    /// The next field as a floating-point number; `nil` for NULL.
    public mutating func nextDouble() throws -> Double? {
        guard let text = try next() else { return nil }
        guard let value = Double(text) else {
            throw PostgresError(code: .decoding, message: "COPY field is not a number: \(text)")
        }
        return value
    }
}
