import Crypto
import VigilCore

/// SHA-256 of a transaction's canonical content: what tells a sender's replay (same id,
/// same content: a duplicate) from an id reused for another transaction (an id conflict).
///
/// The content is the decoded, validated fields, not the line's bytes, so a replay that
/// spells the line differently (key order, whitespace, `"10.0"` for `"10.00"`, an escaped
/// character) is the same content; fields Vigil does not read are not part of it.
/// Canonical encoding, version 1 (documented in docs/operations.md; a change to it must
/// get a new version prefix, or every replay of an older record would look like a conflict):
///
/// - the 19 ASCII bytes `vigil-tx-content-v1` and a zero byte;
/// - then each field in this order: `id`, `timestamp`, `account_id`, `card_id`,
///   `amount` (minor units), `currency`, `merchant_id`, `mcc`, `country`, `channel`,
///   `device_id`, `ip`, `lat`, `lon`, each as one of
///   - `00` absent;
///   - `01`, the UTF-8 length as 4 bytes big-endian, the UTF-8 bytes (text);
///   - `02`, 8 bytes big-endian two's complement (amount in minor units, timestamp in
///     microseconds since 1970-01-01T00:00:00Z);
///   - `03`, the IEEE 754 binary64 bits, 8 bytes big-endian (lat, lon; -0 is written as 0).
public struct ContentDigest: Sendable, Hashable, CustomStringConvertible {
    // Four words instead of an array: a digest per record must not allocate.
    let w0, w1, w2, w3: UInt64

    /// The digest of `transaction`'s canonical content.
    public init(of transaction: Transaction) {
        // The prefix, two integers, two doubles, ten texts' headers, then the texts.
        let size =
            Self.prefix.count + 2 * 9 + 2 * 9 + 10 * 5
            + transaction.id.utf8.count + transaction.accountID.utf8.count + Self.length(transaction.cardID)
            + transaction.amount.currency.code.utf8.count + Self.length(transaction.merchantID)
            + Self.length(transaction.mcc) + Self.length(transaction.country) + transaction.channel.rawValue.utf8.count
            + Self.length(transaction.deviceID) + Self.length(transaction.ip)
        self = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: size) { buffer in
            var writer = CanonicalWriter(buffer: buffer)
            writer.write(bytes: Self.prefix)
            writer.write(text: transaction.id)
            writer.write(integer: transaction.timestamp.microsecondsSinceEpoch)
            writer.write(text: transaction.accountID)
            writer.write(text: transaction.cardID)
            writer.write(integer: transaction.amount.minorUnits)
            writer.write(text: transaction.amount.currency.code)
            writer.write(text: transaction.merchantID)
            writer.write(text: transaction.mcc)
            writer.write(text: transaction.country)
            writer.write(text: transaction.channel.rawValue)
            writer.write(text: transaction.deviceID)
            writer.write(text: transaction.ip)
            writer.write(double: transaction.latitude)
            writer.write(double: transaction.longitude)
            var hasher = SHA256()
            hasher.update(bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[..<writer.count])))
            return ContentDigest(hasher.finalize())
        }
    }

    /// The digest from its 32 bytes (as stored in a `bytea` column); nil for another length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        for (index, byte) in bytes.enumerated() { words[index / 8] = words[index / 8] << 8 | UInt64(byte) }
        (w0, w1, w2, w3) = (words[0], words[1], words[2], words[3])
    }

    private init(_ digest: SHA256.Digest) {
        // Read through the bytes in place: iterating a digest copies it into an array.
        (w0, w1, w2, w3) = digest.withUnsafeBytes { raw in
            guard raw.count == 32 else { return (0, 0, 0, 0) }
            func word(_ offset: Int) -> UInt64 { UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
            return (word(0), word(8), word(16), word(24))
        }
    }

    /// The 32 bytes, big-endian word by word (what the `bytea` columns hold).
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for word in [w0, w1, w2, w3] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return out
    }

    /// Lower-case hex, as `encode(content_digest, 'hex')` shows it in SQL.
    public var description: String {
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 0xF)]] }, as: UTF8.self)
    }

    private static let prefix: [UInt8] = Array("vigil-tx-content-v1".utf8) + [0]

    private static func length(_ text: String?) -> Int { text?.utf8.count ?? 0 }
}

/// Writes the canonical encoding into a buffer sized for it (whole runs copied at once:
/// byte by byte, the encoding cost as much as the hash).
private struct CanonicalWriter {
    let buffer: UnsafeMutableBufferPointer<UInt8>
    var count = 0

    mutating func write(bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { copy($0) }
    }

    mutating func write(text: String?) {
        guard let text else { return put(0) }
        put(1)
        let utf8 = text.utf8
        putBigEndian(UInt64(utf8.count), width: 4)
        if utf8.withContiguousStorageIfAvailable({ copy($0) }) == nil {
            for byte in utf8 { put(byte) }
        }
    }

    mutating func write(integer: Int64) {
        put(2)
        putBigEndian(UInt64(bitPattern: integer), width: 8)
    }

    mutating func write(double: Double?) {
        guard let double else { return put(0) }
        put(3)
        putBigEndian(double == 0 ? 0 : double.bitPattern, width: 8)
    }

    private mutating func copy(_ source: UnsafeBufferPointer<UInt8>) {
        // Sized by the caller; the guard keeps a mistake there from writing out of bounds.
        guard let from = source.baseAddress, let to = buffer.baseAddress, source.count <= buffer.count - count else { return }
        (to + count).update(from: from, count: source.count)
        count += source.count
    }

    private mutating func putBigEndian(_ value: UInt64, width: Int) {
        guard width <= buffer.count - count, let to = buffer.baseAddress else { return }
        let raw = UnsafeMutableRawPointer(to + count)
        if width == 8 {
            raw.storeBytes(of: value.bigEndian, as: UInt64.self)
        } else {
            raw.storeBytes(of: UInt32(truncatingIfNeeded: value).bigEndian, as: UInt32.self)
        }
        count += width
    }

    private mutating func put(_ byte: UInt8) {
        guard count < buffer.count else { return }
        buffer[count] = byte
        count += 1
    }
}
