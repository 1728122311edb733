import FeedProtocol
import ISO8583
import VigilCore

extension FeedServer {
    /// The connection's ISO 8583 state, when the listener speaks ISO 8583.
    func makeISO8583Session() -> ISO8583Session? {
        guard case .iso8583(let wire) = configuration.wire else { return nil }
        return ISO8583Session(wire: wire, logger: logger)
    }

    /// What the reader does with one frame; nil for a frame that needs nothing (a blank line).
    func decodeFrame(_ frame: FeedFrame, now: Timestamp, iso: ISO8583Session?) -> DecodedFrame? {
        if let iso {
            return iso.decode(frame, now: now) { mapped in
                Self.record(fromLine: mapped.line, built: mapped.transaction, decoder: decoder, panPolicy: configuration.panPolicy, now: now)
            }
        }
        switch frame {
        case .line(let buffer):
            if buffer.readableBytes == 0 { return nil }  // blank lines are keep-alives
            let (payload, raw) = decodeLine(Array(buffer.readableBytesView), now: now)
            return DecodedFrame(outcome: .record(payload, raw: raw), respondTo: nil)
        case .tooLong(let prefix, let length):
            var rejection = FeedRejection.lineTooLong(limit: configuration.maximumLineLength)
            rejection.message += " (this line had \(length) bytes)"
            return DecodedFrame(outcome: .record(.rejected(rejection), raw: PANPolicy.reject.masked(Array(prefix.readableBytesView))), respondTo: nil)
        case .truncated:
            return nil  // only length-prefixed framing reports these
        }
    }

    /// Hands a reversal to the reversal store; without one it is answered as not stored.
    func submitReversal(_ record: ReversalRecord, iso: ISO8583Session?) async throws {
        guard let reversals else {
            record.reply(
                .nack(
                    FeedRejection(
                        code: .storageRefused, recordID: record.reversal.id,
                        message: "this listener does not store reversals; send them to one that does")))
            return
        }
        do {
            try await reversals.submit(record)
        } catch {
            iso?.abandon([record.sequence])
            record.replies.abandon([record.sequence])
            throw error
        }
    }

}
