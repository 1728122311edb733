import Foundation
import PostgresStore
import Synchronization
import Testing

/// All scenarios in one serialized suite: each runs its own `vigil serve` processes,
/// and running them one at a time keeps their memory and timing measurements honest
/// on a small machine.
@Suite("Fault injection: real vigil processes, real sockets, real PostgreSQL", .serialized)
struct FaultToleranceTests {}

/// A `whsec_` secret for `vigil webhooks add`.
/// The secret key (base64 of 32 bytes) the test run's vigil processes seal secrets under.
let testSecretKey: String = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()

func makeWebhookSecret() -> String {
    var bytes = [UInt8](repeating: 0, count: 32)
    for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
    return "whsec_" + Data(bytes).base64EncodedString()
}

/// SplitMix64: a tiny seeded generator, so a "random" kill point can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// RFC 3339 with milliseconds, UTC.
func rfc3339(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
}

/// A valid protocol v1 line with a current timestamp.
func validLine(_ id: String, account: String, amount: String = "12.50", at date: Date = Date()) -> String {
    #"{"id":"\#(id)","timestamp":"\#(rfc3339(date))","account_id":"\#(account)","amount":"\#(amount)","currency":"EUR","channel":"card_present"}"#
}

/// Every id of `ids` stored exactly once, and nothing else: (missing, extra, duplicated).
func storedOnce(_ ids: some Collection<String>, in database: ScratchDatabase, prefix: String? = nil) async throws -> (
    missing: Int, extra: Int, duplicated: Int
) {
    let query: PostgresQuery
    if let prefix { query = "SELECT id FROM transactions WHERE id LIKE \(prefix + "%")" } else { query = "SELECT id FROM transactions" }
    let stored = try await database.strings(query)
    var counts: [String: Int] = [:]
    for id in stored { counts[id, default: 0] += 1 }
    let wanted = Set(ids)
    return (wanted.subtracting(counts.keys).count, Set(counts.keys).subtracting(wanted).count, counts.values.filter { $0 > 1 }.count)
}

/// A value shared between tasks (a `Mutex` in a class, so closures can capture it).
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { value.withLock { body(&$0) } }
}
