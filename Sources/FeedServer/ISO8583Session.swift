import DequeModule
import FeedProtocol
import ISO8583
import Logging
import NIOCore
import Synchronization
import VigilCore

/// What the reader does with one frame.
enum FrameOutcome {
    /// A record for the pipeline (a transaction, or a refusal to store and answer).
    case record(FeedRecord.Payload, raw: [UInt8])
    /// Answered at once, in order, without the pipeline (network management).
    case answered(FeedReply)
    /// A reversal for the reversal store.
    case reversal(ISO8583Reversal)
}

/// One decoded frame: what to do with it, what its response answers, and whether the
/// connection reads on.
struct DecodedFrame {
    var outcome: FrameOutcome
    /// The request its response is built from (nil: no response can be sent).
    var respondTo: ISO8583Message?
    /// Nothing after this frame can be trusted: stop reading, answer what is owed, close.
    var last = false
}

/// The ISO 8583 side of one connection: frames become records, and replies (in arrival
/// order, from the connection's `ReplyQueue`) become response messages.
///
/// The reader notes, in sequence order, the request each reserved reply answers; the
/// writer takes them in the same order. Sequences abandoned (never handed to the
/// pipeline, so never answered) are marked before the reply queue skips them.
final class ISO8583Session: Sendable {
    private struct Pending {
        var sequence: UInt64
        var respondTo: ISO8583Message?
        var abandoned = false
    }

    let wire: ISO8583Wire
    private let decoder: ISO8583Decoder
    private let pending = Mutex(Deque<Pending>())
    private let logger: Logger

    init(wire: ISO8583Wire, logger: Logger) {
        self.wire = wire
        self.decoder = wire.decoder
        self.logger = logger
    }

    /// Notes the request that `sequence`'s reply answers (in reservation order).
    func expect(_ sequence: UInt64, respondTo: ISO8583Message?) {
        pending.withLock { $0.append(Pending(sequence: sequence, respondTo: respondTo)) }
    }

    /// `sequences` will get no reply.
    func abandon(_ sequences: some Sequence<UInt64>) {
        let set = Set(sequences)
        pending.withLock { queue in
            for index in queue.indices where set.contains(queue[index].sequence) { queue[index].abandoned = true }
        }
    }

    /// Appends the response answering the next reply's request (nothing when it cannot be answered).
    func encode(_ reply: FeedReply, into out: inout [UInt8]) {
        let request: ISO8583Message? = pending.withLock { queue in
            while let first = queue.first, first.abandoned { queue.removeFirst() }
            return queue.popFirst()?.respondTo
        }
        guard let request else { return }
        let code = wire.codes.code(for: reply)
        guard let response = ISO8583Mapper.response(to: request, code: code) else { return }
        do {
            try wire.packager.encode(response, into: &out)
            return
        } catch {}
        // An echoed field did not fit the dialect (it was malformed): answer with the MTI,
        // the correlation fields and the code only.
        var minimal = ISO8583Message(mti: response.mti)
        for field in [7, 11, 37, 41, 42, 39] { minimal[field] = response[field] }
        do {
            try wire.packager.encode(minimal, into: &out)
        } catch {
            logger.warning("an ISO 8583 response could not be packed; none sent", metadata: ["mti": "\(response.mtiText)"])
        }
    }

    /// Decodes one frame read at `now`; `record` turns a mapped transaction and its line into
    /// a record (the feed's card-number policy and validation).
    func decode(_ frame: FeedFrame, now: Timestamp, record: (ISO8583Mapper.Mapped) -> (FeedRecord.Payload, [UInt8])) -> DecodedFrame {
        let bytes: [UInt8]
        switch frame {
        case .line(let buffer):
            bytes = Array(buffer.readableBytesView)
        case .tooLong(let prefix, let length):
            let reason =
                length < 0
                ? "the length header is not \(wire.packager.headerSize) ASCII digits"
                : "the length header announces \(length) bytes, more than the listener accepts"
            return refusal(.frameTooLong, reason + "; the connection is closed (frames cannot be found after it)", Array(prefix.readableBytesView))
        case .truncated(let prefix, let declared):
            let reason = "the connection ended \(prefix.readableBytes) bytes into a frame whose header announced \(declared) (a truncated frame)"
            return refusal(.truncated, reason, Array(prefix.readableBytesView))
        }
        let message: ISO8583Message
        do {
            message = try decoder.decode(body: bytes[min(wire.packager.headerSize, bytes.count)...])
        } catch {
            let rejection = FeedRejection(
                code: .invalidISO8583, recordID: error.partial.flatMap(ISO8583Mapper.transactionID), field: error.field.map { "iso8583.\($0)" },
                message: error.description)
            let answerable = error.correlationReadable ? error.partial : nil
            return DecodedFrame(
                outcome: .record(.rejected(rejection), raw: decoder.redacted(frame: bytes)), respondTo: answerable, last: answerable == nil)
        }
        switch ISO8583Mapper.kind(of: message.mti) {
        case .transaction:
            switch ISO8583Mapper.map(message, now: now) {
            case .success(let mapped):
                let (payload, raw) = record(mapped)
                if case .rejected = payload {
                    return DecodedFrame(outcome: .record(payload, raw: decoder.redacted(frame: bytes)), respondTo: message)
                }
                return DecodedFrame(outcome: .record(payload, raw: raw), respondTo: message)
            case .failure(let rejection):
                return DecodedFrame(outcome: .record(.rejected(rejection), raw: decoder.redacted(frame: bytes)), respondTo: message)
            }
        case .reversal:
            switch ISO8583Mapper.reversal(from: message, now: now) {
            case .success(let reversal): return DecodedFrame(outcome: .reversal(reversal), respondTo: message)
            case .failure(let rejection):
                return DecodedFrame(outcome: .record(.rejected(rejection), raw: decoder.redacted(frame: bytes)), respondTo: message)
            }
        case .networkManagement:
            return DecodedFrame(outcome: .answered(.ack(id: "", duplicate: false)), respondTo: message)
        case .unsupported:
            let rejection = FeedRejection(
                code: .invalidISO8583, recordID: ISO8583Mapper.transactionID(message), field: "iso8583.mti",
                message:
                    "MTI \(message.mtiText) is not a request this listener answers (x100, x200 and x400 requests and advices, x800 network management)"
            )
            let answerable = ISO8583Mapper.responseMTI(for: message.mti) != nil ? message : nil
            return DecodedFrame(outcome: .record(.rejected(rejection), raw: decoder.redacted(frame: bytes)), respondTo: answerable)
        }
    }

    private func refusal(_ code: ISO8583DecodeError.Code, _ reason: String, _ prefix: [UInt8]) -> DecodedFrame {
        let rejection = FeedRejection(code: .invalidISO8583, message: "\(code.rawValue): \(reason)")
        return DecodedFrame(outcome: .record(.rejected(rejection), raw: decoder.redacted(frame: prefix)), respondTo: nil, last: true)
    }
}
