/// The known members of one line, as byte ranges, after a full syntax check.
struct RawFields {
    let bytes: UnsafeBufferPointer<UInt8>
    /// One slot per ``FeedField``, indexed by its raw value; an inline array keeps
    /// this on the stack.
    var slots = InlineArray<14, JSONToken?>(repeating: nil)
    /// The first known member that occurred twice, reported once the syntax is known good.
    var duplicate: FeedField?

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    subscript(field: FeedField) -> JSONToken? {
        slots[field.rawValue]
    }

    /// Scans the whole line, filling the slots; syntax problems become `invalid_json` or
    /// `invalid_utf8` (with the id, if it was read before the problem).
    mutating func scan(maximumDepth: Int) throws(FeedRejection) {
        var scanner = JSONScanner(bytes, maximumDepth: maximumDepth)
        do {
            try scanner.beginObject()
            while let key = try scanner.nextKey() {
                let value = try scanner.value()
                let field: FeedField?
                if key.escaped {
                    field = Self.matchEscaped(bytes, key)
                } else {
                    field = FeedField.match(bytes, from: key.start, to: key.end)
                }
                guard let field else { continue }
                if slots[field.rawValue] != nil {
                    if duplicate == nil { duplicate = field }
                } else {
                    slots[field.rawValue] = value
                }
            }
            try scanner.end()
        } catch {
            throw rejection(for: error)
        }
        if let duplicate {
            throw FeedRejection(
                code: .duplicateField, recordID: readableID(), field: duplicate.wireName,
                message: "field \"\(duplicate.wireName)\" occurs more than once; send each field once"
            )
        }
    }

    /// A member name written with escapes (legal, if odd) is unescaped on the stack first.
    private static func matchEscaped(_ bytes: UnsafeBufferPointer<UInt8>, _ key: JSONToken) -> FeedField? {
        let length = key.end - key.start
        guard length > 0, length <= 64 else { return nil }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { scratch in
            let n = JSONUnescaping.unescape(bytes, from: key.start, to: key.end, into: scratch)
            return FeedField.match(UnsafeBufferPointer(scratch), from: 0, to: n)
        }
    }

    /// The `id` as a String if it is a plain, valid string; for nacks only.
    func readableID() -> String? {
        guard let token = self[.id], token.kind == .string else { return nil }
        let id = makeString(token)
        guard !id.isEmpty, id.utf8.count <= 128, !id.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return nil }
        return id
    }

    /// The string a scanned token denotes; the scanner has validated its UTF-8 and escapes.
    func makeString(_ token: JSONToken) -> String {
        let start = max(0, min(token.start, bytes.count))
        let end = max(start, min(token.end, bytes.count))
        guard token.escaped else {
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        }
        return String(unsafeUninitializedCapacity: end - start) { out in
            JSONUnescaping.unescape(bytes, from: start, to: end, into: out)
        }
    }

    /// Calls `body` with the unescaped bytes of a string token, using the stack when it must copy.
    func withBytes<R>(_ token: JSONToken, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let start = max(0, min(token.start, bytes.count))
        let end = max(start, min(token.end, bytes.count))
        guard token.escaped else { return body(UnsafeBufferPointer(rebasing: bytes[start..<end])) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(1, end - start)) { scratch in
            let n = JSONUnescaping.unescape(bytes, from: start, to: end, into: scratch)
            return body(UnsafeBufferPointer(rebasing: scratch[0..<n]))
        }
    }

    private func rejection(for error: JSONScanError) -> FeedRejection {
        switch error {
        case .invalidUTF8(let offset):
            return FeedRejection(
                code: .invalidUTF8, recordID: readableID(),
                message: "byte \(offset) is not valid UTF-8; the feed must be UTF-8 encoded"
            )
        case .tooDeep(let offset):
            return FeedRejection(
                code: .invalidJSON, recordID: readableID(),
                message: "nesting at byte \(offset) is deeper than the limit; records are flat objects"
            )
        case .syntax(let offset, let reason):
            return FeedRejection(
                code: .invalidJSON, recordID: readableID(),
                message: "malformed JSON at byte \(offset): expected \(reason)"
            )
        }
    }
}
