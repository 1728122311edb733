import FeedServer
import Foundation
import ISO8583

/// Sends one connection's share of records to a set of servers, following the leader.
///
/// Records go to one server; when it answers `not_leader` (a standby) or the connection
/// ends before every record is answered, the records not yet answered are sent again to
/// the next server, until all are answered or `deadline` passes. A record the old leader
/// stored but did not ack comes back `duplicate: true`: stored once, answered once here.
struct FailoverSender {
    var addresses: [FeedAddress]
    var tls: FeedClientTLS?
    var iso8583: ISO8583Packager?
    var deadline: ContinuousClock.Instant
    var command: String

    /// Sends `payload` (records ending at `ends`); returns the replies' tally.
    func send(payload: [UInt8], ends: [Int]) async throws -> Tally {
        var tally = Tally()
        var next = 0
        var current = 0
        var fruitless = 0
        while next < ends.count {
            let address = addresses[current % addresses.count]
            let start = next == 0 ? 0 : ends[next - 1]
            let remaining = ends.count - next
            var answered = 0
            var refusal: String?
            var failure: (any Error)?
            do {
                try await FeedClient.withConnection(host: address.host, port: address.port, tls: tls, iso8583: iso8583) { connection in
                    let writer = connection.writer
                    let bytes = Array(payload[start...])
                    let sender = Task {
                        var offset = 0
                        while offset < bytes.count {
                            let end = min(offset + 256 * 1024, bytes.count)
                            try await writer.send(bytes: Array(bytes[offset..<end]))
                            offset = end
                        }
                    }
                    defer { sender.cancel() }
                    while answered < remaining, let (reply, decision) = try await connection.nextDecidedReply() {
                        if case .nack(nil, "not_leader", let message) = reply {
                            refusal = message
                            break
                        }
                        tally.add(reply, decision: decision)
                        answered += 1
                    }
                    if answered == remaining { try await sender.value }
                }
            } catch {
                failure = error
            }
            next += answered
            guard next < ends.count else { break }
            if addresses.count == 1 {
                // One server: no one to move to; what is left is reported unanswered.
                if let failure, answered == 0 { throw failure }
                break
            }
            guard ContinuousClock.now < deadline else { break }
            let why = refusal.map { "not_leader (\($0))" } ?? failure.map { "\($0)" } ?? "the connection closed"
            FileHandle.standardError.write(
                Data("vigil \(command): \(address): \(why); sending the \(ends.count - next) unanswered records to the next address\n".utf8))
            fruitless = answered == 0 ? fruitless + 1 : 0
            // Every server refused in turn: a takeover is under way; give it a moment.
            if fruitless >= addresses.count {
                fruitless = 0
                try await Task.sleep(for: .milliseconds(200))
            }
            current += 1
        }
        return tally
    }
}
