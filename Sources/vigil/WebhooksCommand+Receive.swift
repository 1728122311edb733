import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import WebhookDelivery

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `vigil webhooks receive`: a verifying consumer for demos and smoke tests.
struct WebhooksReceiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receive",
        abstract: "Run a small webhook receiver that verifies Standard Webhooks signatures.",
        discussion: """
            Answers 204 to each delivery whose signature verifies and 401 otherwise, printing one line \
            per request. With --count-file, the number of distinct verified webhook-ids is written \
            to the file after every delivery. Stops on SIGINT or SIGTERM.
            """
    )

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port, printed at start).")
    var port: Int
    @Option(help: "The endpoint's whsec_ secret (or env VIGIL_WEBHOOK_SECRET).")
    var secret: String?
    @Option(help: "File that receives the count of distinct verified deliveries.")
    var countFile: String?
    @Option(help: "Accepted webhook-timestamp skew in seconds.")
    var tolerance: Int64 = 300
    @Flag(help: "Print only rejected requests.")
    var quiet = false

    func run() async throws {
        guard let text = secret ?? ProcessInfo.processInfo.environment["VIGIL_WEBHOOK_SECRET"] else {
            throw CleanExit.failure("vigil webhooks receive: give --secret whsec_... or set VIGIL_WEBHOOK_SECRET")
        }
        let verifier: WebhookVerifier
        do {
            verifier = WebhookVerifier(secrets: [try WebhookSecret(text)], tolerance: .seconds(tolerance))
        } catch let error as WebhookError {
            throw CleanExit.failure("vigil webhooks receive: \(error.message)")
        }
        let tally = ReceiveTally(countFile: countFile, quiet: quiet)
        let host = self.host
        let receiver = WebhookReceiver(
            host: host, port: port, verifier: verifier,
            onListening: { port in
                ReceiveTally.emit("listening on http://\(host):\(port)/ (verifying Standard Webhooks signatures)")
            },
            onDelivery: { delivery in await tally.record(delivery) }
        )
        let group = ServiceGroup(services: [receiver], gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "vigil.webhooks.receive"))
        try await group.run()
        let verified = await tally.verifiedCount
        print("received \(verified) verified deliveries")
    }
}

/// Counts verified deliveries (distinct webhook-ids) and prints one line per request.
actor ReceiveTally {
    private let countFile: String?
    private let quiet: Bool
    private var verified = Set<String>()
    private var rejected = 0

    init(countFile: String?, quiet: Bool) {
        self.countFile = countFile
        self.quiet = quiet
    }

    var verifiedCount: Int { verified.count }

    func record(_ delivery: WebhookReceiver.Delivery) {
        let id = delivery.messageID ?? "-"
        guard delivery.rejection == nil else {
            rejected += 1
            Self.emit("REJECTED \(id): \(delivery.rejection ?? "")")
            return
        }
        let first = verified.insert(id).inserted
        if !quiet {
            let summary = Self.summary(delivery.body)
            Self.emit("verified \(id)\(first ? "" : " (duplicate)") \(summary)")
        }
        if let countFile {
            let temporary = countFile + ".tmp"
            // Write then rename, so a reader never sees a half-written number.
            if FileManager.default.createFile(atPath: temporary, contents: Data("\(verified.count)\n".utf8)) {
                _ = rename(temporary, countFile)
            }
        }
    }

    /// Writes one line to standard output unbuffered, so a demo script piping it sees it at once.
    nonisolated static func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// `alert.created alert=42 severity=high tx=tx-1` from the body, best effort.
    static func summary(_ body: [UInt8]) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return "(body is not JSON)" }
        let data = object["data"] as? [String: Any] ?? [:]
        let alert = (data["alert_id"] as? NSNumber)?.stringValue ?? "?"
        return
            "\(object["type"] as? String ?? "?") alert=\(alert) severity=\(data["severity"] as? String ?? "?") tx=\(data["transaction_id"] as? String ?? "?")"
    }
}
