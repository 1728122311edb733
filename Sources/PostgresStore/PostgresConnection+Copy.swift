import CLibPQ
import VigilCore

extension PostgresConnection {
    /// Streams `data` to a `COPY ... FROM STDIN` statement and returns the rows copied.
    ///
    /// `data` is in the format the statement names (text format by default; build it
    /// with `CopyTextEncoder`). COPY is PostgreSQL's fastest way in: one statement,
    /// one round trip per batch.
    @discardableResult
    public func copyIn(_ statement: PostgresQuery, data: [UInt8]) throws -> Int {
        guard statement.bindings.isEmpty else {
            throw PostgresError(code: .misuse, message: "COPY takes no bind parameters")
        }
        return try copyIn(after: "", statement.sql, data: data).copied
    }

    /// Sends `preamble` (statements without parameters, each ending in `;`) and the COPY
    /// `statement` as one query, so the statements before the COPY cost no round trip of
    /// their own; then streams `data` to the COPY. `statement` may go on after the COPY
    /// (`COPY ... FROM STDIN; COMMIT`): those statements run once its data is in. Returns
    /// the rows of each statement of the preamble, in order, and the rows copied. A failing
    /// statement stops the query there: its error is thrown, and the statements after it
    /// do not run.
    func copyIn(after preamble: String, _ statement: String, data: [UInt8]) throws -> (preamble: [PostgresRows], copied: Int) {
        let (before, copyStarted) = try simpleQuery(preamble + statement)
        guard copyStarted else {
            throw PostgresError(code: .copyFailed, message: "the statement is not a COPY ... FROM STDIN")
        }
        let conn = try liveConnection()
        let chunk = 1 << 18
        var sendFailure: String?
        data.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let n = min(chunk, buffer.count - offset)
                let sent = base.advanced(by: offset).withMemoryRebound(to: CChar.self, capacity: n) {
                    PQputCopyData(conn, $0, Int32(n))
                }
                if sent != 1 {
                    sendFailure = Self.errorText(conn)
                    return
                }
                offset += n
            }
        }
        let ended = PQputCopyEnd(conn, sendFailure)
        var copied: Int?
        var firstError: (any Error)?
        // Drain every result so the connection is usable again afterwards: the COPY's,
        // then those of statements after it in the same query (none after an error).
        while let result = PQgetResult(conn) {
            do {
                let rows = try consume(result)
                if copied == nil { copied = rows.affectedRows }
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
        if let sendFailure {
            throw PostgresError(code: .copyFailed, message: "sending COPY data failed: \(sendFailure)")
        }
        if ended != 1 {
            throw connectionError(fallback: "ending COPY failed")
        }
        return (before, copied ?? 0)
    }
}

/// Builds rows in PostgreSQL's COPY text format: tab-separated, `\N` for NULL,
/// backslash escapes for tab, newline, carriage return and backslash.
public struct CopyTextEncoder: Sendable {
    /// The encoded bytes so far.
    public private(set) var bytes: [UInt8] = []
    private var fieldsInRow = 0

    /// Creates an empty encoder with room for `capacity` bytes.
    public init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    /// Appends a text field (escaped); `nil` is NULL.
    public mutating func append(_ value: String?) {
        separator()
        guard let value else {
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(UInt8(ascii: "N"))
            return
        }
        var text = value
        text.withUTF8 { appendEscaped($0) }
    }

    /// Appends a text field given as UTF-8 bytes (escaped). The bytes must be valid
    /// UTF-8: PostgreSQL refuses the whole COPY otherwise.
    public mutating func append(utf8 value: UnsafeBufferPointer<UInt8>) {
        separator()
        appendEscaped(value)
    }

    /// Escapes backslash, tab, newline and carriage return; runs without them are
    /// copied in one piece (most fields have none).
    private mutating func appendEscaped(_ value: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        for index in value.indices {
            let escaped: UInt8
            switch value[index] {
            case UInt8(ascii: "\\"): escaped = UInt8(ascii: "\\")
            case UInt8(ascii: "\t"): escaped = UInt8(ascii: "t")
            case UInt8(ascii: "\n"): escaped = UInt8(ascii: "n")
            case UInt8(ascii: "\r"): escaped = UInt8(ascii: "r")
            default: continue
            }
            if runStart < index { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: value[runStart..<index])) }
            bytes.append(0x5C)
            bytes.append(escaped)
            runStart = index + 1
        }
        if runStart < value.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: value[runStart...])) }
    }

    /// Appends an integer field.
    public mutating func append(_ value: Int64?) {
        guard let value else { return append(nil as String?) }
        separator()
        appendDecimal(value)
    }

    /// Appends a timestamp as RFC 3339 UTC with microseconds, written straight into the
    /// buffer (every transaction row has one; building its `String` was an allocation).
    public mutating func append(_ value: Timestamp?) {
        guard let value else { return append(nil as String?) }
        let (date, time) = RFC3339.components(value)
        guard (0...9999).contains(date.year) else { return append(value.postgresText) }
        separator()
        appendPadded(date.year, 4)
        bytes.append(UInt8(ascii: "-"))
        appendPadded(date.month, 2)
        bytes.append(UInt8(ascii: "-"))
        appendPadded(date.day, 2)
        bytes.append(UInt8(ascii: "T"))
        appendPadded(time.hour, 2)
        bytes.append(UInt8(ascii: ":"))
        appendPadded(time.minute, 2)
        bytes.append(UInt8(ascii: ":"))
        appendPadded(time.second, 2)
        bytes.append(UInt8(ascii: "."))
        appendPadded(time.micros, 6)
        bytes.append(UInt8(ascii: "Z"))
    }

    private mutating func appendPadded(_ value: Int64, _ width: Int) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(truncatingIfNeeded: rest / divisor) &+ UInt8(ascii: "0"))
            rest %= divisor
            divisor /= 10
        }
    }

    /// Appends a digest as a `bytea` field (`\\x` and lower-case hex, written straight
    /// into the buffer); `nil` is NULL.
    public mutating func append(_ digest: ContentDigest?) {
        guard let digest else { return append(nil as String?) }
        separator()
        // In COPY text the bytea's own backslash is escaped: `\\x...`.
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(UInt8(ascii: "x"))
        appendHex(digest.w0)
        appendHex(digest.w1)
        appendHex(digest.w2)
        appendHex(digest.w3)
    }

    private mutating func appendHex(_ word: UInt64) {
        for shift in stride(from: 60, through: 0, by: -4) {
            let nibble = UInt8(truncatingIfNeeded: (word >> UInt64(shift)) & 0xF)
            bytes.append(nibble < 10 ? nibble &+ 48 : nibble &+ 87)
        }
    }

    /// Appends any encodable value through its text form; `nil` is NULL.
    public mutating func append(encodable value: (some PostgresEncodable)?) {
        append(value?.postgresText)
    }

    /// Appends one complete row (ending in a newline) with one more column at its end:
    /// `arrival`, the row's position in its batch (how a backtest replays in the order the
    /// pipeline decided).
    public mutating func appendRow(_ row: [UInt8], arrival: Int) {
        if let last = row.last, last == UInt8(ascii: "\n") {
            bytes.append(contentsOf: row[..<(row.count - 1)])
        } else {
            bytes.append(contentsOf: row)
        }
        bytes.append(UInt8(ascii: "\t"))
        bytes.append(contentsOf: String(arrival).utf8)
        bytes.append(UInt8(ascii: "\n"))
    }

    /// Appends whole rows encoded earlier (by this type).
    public mutating func appendRows(_ rows: [UInt8]) {
        bytes.append(contentsOf: rows)
    }

    /// Ends the current row.
    public mutating func endRow() {
        bytes.append(UInt8(ascii: "\n"))
        fieldsInRow = 0
    }

    /// Clears the buffer, keeping its capacity.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        fieldsInRow = 0
    }

    private mutating func separator() {
        if fieldsInRow > 0 { bytes.append(UInt8(ascii: "\t")) }
        fieldsInRow += 1
    }

    private mutating func appendDecimal(_ value: Int64) {
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = value.magnitude
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(magnitude % 10) + 48
                magnitude /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) {
                bytes.append(buffer[i])
            }
        }
    }
}
