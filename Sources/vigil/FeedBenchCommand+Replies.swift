import Histogram
import ISO8583

/// What one connection measured; merged across connections at the end.
struct BenchStats: Sendable {
    var sent = 0
    var acked = 0
    var duplicates = 0
    var nacked = 0
    /// Replies that were neither an ack nor a nack line (should stay 0).
    var unparsed = 0
    /// Acks that arrived inside the measured interval (the throughput figure).
    var ackedInWindow = 0
    /// Records sent inside the measured interval.
    var sentInWindow = 0
    var nacksByCode: [String: Int] = [:]
    /// Ack latency in microseconds of records sent (or scheduled) inside the measured interval.
    var latency = BenchStats.makeHistogram()
    /// The slowest ack of the records sent in each second of the measured interval, in
    /// microseconds (a stall shows as one bad second; a slow server as all of them).
    var maxPerSecond: [UInt64] = []

    /// 1 µs to 1 hour at 3 significant digits (about 0.1% resolution).
    static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    }

    mutating func merge(_ other: BenchStats) {
        sent += other.sent
        acked += other.acked
        duplicates += other.duplicates
        nacked += other.nacked
        unparsed += other.unparsed
        ackedInWindow += other.ackedInWindow
        sentInWindow += other.sentInWindow
        nacksByCode.merge(other.nacksByCode, uniquingKeysWith: +)
        latency.add(other.latency)
        if maxPerSecond.count < other.maxPerSecond.count {
            maxPerSecond += [UInt64](repeating: 0, count: other.maxPerSecond.count - maxPerSecond.count)
        }
        for (second, value) in other.maxPerSecond.enumerated() { maxPerSecond[second] = Swift.max(maxPerSecond[second], value) }
    }

    /// Counts one reply whose record was sent (or scheduled) at `sentAt`; `now` is its arrival.
    mutating func record(_ kind: BenchReplyKind, sentAt: UInt64, now: UInt64, plan: BenchPlan) {
        switch kind {
        case .ack(let duplicate):
            acked += 1
            if duplicate { duplicates += 1 }
            if now >= plan.measureFrom, now < plan.sendUntil { ackedInWindow += 1 }
        case .nack(let code):
            nacked += 1
            nacksByCode[code, default: 0] += 1
        case .unparsed:
            unparsed += 1
        }
        if sentAt >= plan.measureFrom, sentAt < plan.sendUntil {
            let micros = now > sentAt ? (now - sentAt) / 1000 : 0
            _ = latency.record(Swift.min(Swift.max(micros, 1), 3_600_000_000))
            let second = Int((sentAt - plan.measureFrom) / 1_000_000_000)
            if second >= maxPerSecond.count { maxPerSecond += [UInt64](repeating: 0, count: second + 1 - maxPerSecond.count) }
            maxPerSecond[second] = Swift.max(maxPerSecond[second], micros)
        }
    }
}

/// The classification of one reply line.
enum BenchReplyKind: Equatable {
    case ack(duplicate: Bool)
    case nack(code: String)
    case unparsed
}

/// Splits reply bytes into lines and classifies them without a JSON parser: replies are
/// `{"ack":"ID"}`, `{"ack":"ID","duplicate":true}` or `{"nack":...,"error":"CODE",...}`,
/// so a prefix test and a suffix test tell them apart.
struct BenchReplyScanner {
    /// The current, unfinished line (reused; never longer than `keep`, the rest is skipped).
    private var line: [UInt8] = []
    private var lineLength = 0
    private let keep = 512

    /// ISO 8583 replies: frames of this dialect, classified by field 39.
    private var frames: ISO8583ReplyScanner?

    init(iso8583: ISO8583Packager? = nil) {
        line.reserveCapacity(512)
        frames = iso8583.map { ISO8583ReplyScanner(packager: $0) }
    }

    /// Feeds received bytes; calls `body` once per complete line (or ISO 8583 frame).
    mutating func scan(_ bytes: UnsafeRawBufferPointer, _ body: (BenchReplyKind) -> Void) {
        if frames != nil {
            frames?.scan(bytes, body)
            return
        }
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                body(classify())
                line.removeAll(keepingCapacity: true)
                lineLength = 0
            } else {
                if lineLength < keep { line.append(byte) }
                lineLength += 1
            }
        }
    }

    private static let ackPrefix = Array(#"{"ack":"#.utf8)
    private static let nackPrefix = Array(#"{"nack":"#.utf8)
    private static let duplicateSuffix = Array(#""duplicate":true}"#.utf8)
    private static let errorKey = Array(#""error":""#.utf8)

    private func classify() -> BenchReplyKind {
        var end = line.count
        while end > 0, line[end - 1] == UInt8(ascii: "\r") || line[end - 1] == UInt8(ascii: " ") { end -= 1 }
        let body = line[0..<end]
        if body.starts(with: Self.ackPrefix) {
            return .ack(
                duplicate: body.count >= Self.duplicateSuffix.count && body.suffix(Self.duplicateSuffix.count).elementsEqual(Self.duplicateSuffix))
        }
        if body.starts(with: Self.nackPrefix) {
            return .nack(code: errorCode(in: body) ?? "unknown")
        }
        return .unparsed
    }

    private func errorCode(in body: ArraySlice<UInt8>) -> String? {
        let key = Self.errorKey
        guard body.count > key.count else { return nil }
        var i = body.startIndex
        while i + key.count <= body.endIndex {
            if body[i..<(i + key.count)].elementsEqual(key) {
                let start = i + key.count
                var end = start
                while end < body.endIndex, body[end] != UInt8(ascii: "\"") { end += 1 }
                return String(decoding: body[start..<end], as: UTF8.self)
            }
            i += 1
        }
        return nil
    }
}
