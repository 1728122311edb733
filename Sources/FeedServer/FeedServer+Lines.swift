import FeedProtocol
import VigilCore

extension FeedServer {
    /// Decodes one line after the card-number policy has looked at it: a line with a PAN
    /// is refused with the number masked, or decoded with the number replaced by its
    /// token; either way the bytes returned (what is stored) no longer hold the number.
    func decodeLine(_ line: [UInt8], now: Timestamp) -> (FeedRecord.Payload, [UInt8]) {
        Self.record(fromLine: line, decoder: decoder, panPolicy: configuration.panPolicy, now: now)
    }

    /// A line's record and the bytes to store, through the card-number policy and the
    /// decoder: what every way in (the feed, ISO 8583, ISO 20022) does with a protocol v1 line.
    ///
    /// `built` is the transaction the way in already made from the same members (ISO 8583):
    /// taken as it is when the line needs no card-number rewrite and the decoder accepts it
    /// unchanged, so the line is not parsed a second time; otherwise the line is decoded.
    public static func record(
        fromLine line: [UInt8], built: Transaction? = nil, decoder: FeedDecoder, panPolicy: PANPolicy, now: Timestamp
    ) -> (FeedRecord.Payload, [UInt8]) {
        var raw = line
        switch panPolicy.apply(to: line) {
        case .clean:
            if let built, decoder.accepts(built, now: now) { return (.transaction(built), line) }
        case .tokenized(let rewritten):
            raw = rewritten
        case .refused(let masked, let shown):
            // The id is read from the masked line, so a number in the id itself is never echoed.
            let id: String?
            do throws(FeedRejection) {
                id = try decoder.decode(masked, now: now).id
            } catch {
                id = error.recordID
            }
            return (.rejected(.panNotAllowed(recordID: id, masked: shown)), masked)
        }
        let decoded: Result<Transaction, FeedRejection> = raw.withUnsafeBufferPointer { bytes in
            do throws(FeedRejection) {
                return .success(try decoder.decode(bytes, now: now))
            } catch {
                return .failure(error)
            }
        }
        switch decoded {
        case .success(let transaction): return (.transaction(transaction), raw)
        case .failure(let rejection): return (.rejected(rejection), raw)
        }
    }

    /// Warns at start when the feed accepts plain TCP on an address other hosts can reach.
    func warnIfExposed() {
        guard transport == .tcp, !Self.isLoopback(configuration.host) else { return }
        logger.warning(
            "THE FEED ACCEPTS PLAIN TCP ON A NON-LOOPBACK ADDRESS: anyone who can reach this port can inject transactions or claim ids, and reads the traffic in clear. Give --tls-cert and --tls-key (and --tls-client-ca for client certificates), or --feed-host 127.0.0.1 behind a TLS-terminating proxy; see docs/security.md",
            metadata: ["host": "\(configuration.host)", "port": "\(configuration.port)", "transport": "tcp"]
        )
    }

    /// Whether `host` is a loopback address (`127.0.0.0/8`, `::1`, `localhost`).
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}

extension PANPolicy {
    /// `line` with every card number masked (first 6 and last 4 digits kept).
    func masked(_ line: [UInt8]) -> [UInt8] {
        let found = PANScanner.find(in: line)
        return found.isEmpty ? line : PANScanner.redact(line, found)
    }
}
