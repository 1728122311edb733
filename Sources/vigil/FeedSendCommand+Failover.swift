import FeedServer
import Foundation
import ISO8583

/// Sends one connection's share of records to a set of servers, following the leader.
///
/// Records go to one server; when it answers `not_leader` (a standby) or the connection
/// ends before every record is answered, the records not yet answered are sent again to
/// the next server, until all are answered or no server has answered for `failoverTimeout`
/// (counted from the first failure since the last answer, so a long paced send can still
/// follow a takeover near its end). A record the old leader
/// stored but did not ack comes back `duplicate: true`: stored once, answered once here.
///
/// Records go out on the schedule's timetable, counted from `started` across moves: those
/// that fell due during a takeover are sent at once to the new leader, then the rest on
/// time (an unpaced schedule sends everything at once and lets TCP hold it back).
struct FailoverSender {
    var addresses: [FeedAddress]
    var tls: FeedClientTLS?
    var iso8583: ISO8583Packager?
    var started: ContinuousClock.Instant
    var failoverTimeout: Duration
    var command: String

    /// Sends `payload` (records ending at `ends`) on `schedule`; returns the replies' tally.
    func send(payload: [UInt8], ends: [Int], schedule: SendSchedule) async throws -> Tally {
        var tally = Tally()
        var next = 0
        var current = 0
        var fruitless = 0
        var searchingSince: ContinuousClock.Instant?
        while next < ends.count {
            let address = addresses[current % addresses.count]
            let first = next
            let remaining = ends.count - next
            var answered = 0
            var refusal: String?
            var failure: (any Error)?
            do {
                try await FeedClient.withConnection(host: address.host, port: address.port, tls: tls, iso8583: iso8583) { connection in
                    let writer = connection.writer
                    let started = self.started
                    let sender = Task {
                        var sent = first
                        while true {
                            let due = max(schedule.dueCount(after: ContinuousClock.now - started), sent)
                            var offset = sent == 0 ? 0 : ends[sent - 1]
                            let end = due == 0 ? 0 : ends[due - 1]
                            while offset < end {
                                let chunk = min(offset + 256 * 1024, end)
                                try await writer.send(bytes: Array(payload[offset..<chunk]))
                                offset = chunk
                            }
                            sent = due
                            guard let wait = schedule.wait(sent: sent, elapsed: ContinuousClock.now - started) else { break }
                            if wait > .zero { try await Task.sleep(for: wait) }
                        }
                    }
                    defer { sender.cancel() }
                    while answered < remaining, let (reply, decision) = try await connection.nextDecidedReply() {
                        if case .nack(nil, "not_leader", let message) = reply {
                            refusal = message
                            break
                        }
                        if answered == 0, current > 0 {
                            // When the new leader answered: what a takeover cost this sender.
                            let at = String(format: "%.3f", Date().timeIntervalSince1970)
                            FileHandle.standardError.write(
                                Data("vigil \(command): \(address): first reply after moving at unix time \(at)\n".utf8))
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
            if answered > 0 { searchingSince = nil }
            let since = searchingSince ?? ContinuousClock.now
            searchingSince = since
            guard ContinuousClock.now - since < failoverTimeout else { break }
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
