import FeedServer
import Foundation
import Testing
import VigilTesting

#if canImport(Glibc)
import Glibc
#endif

extension FaultToleranceTests {
    /// Mutual TLS end to end through the real binaries: `vigil serve --tls-cert --tls-key
    /// --tls-client-ca` and `vigil feed send --tls-ca --tls-cert --tls-key`. The sender's
    /// certificate subject lands in `feed_sessions`; a card number is refused and kept
    /// only masked; a dump of the database holds neither the PAN nor the signing secret.
    @Test("14. mutual TLS from vigil feed send to vigil serve; sessions, PAN refusal and a clean database dump", .timeLimit(.minutes(3)))
    func mutualTLSEndToEnd() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        try await ScratchDatabase.with("trust") { database in
            let secret = makeWebhookSecret()
            try await VigilProcess.run(
                ["webhooks", "add", "https://hooks.example.com/alerts", "--secret", secret], database: database, in: database.folder)
            let server = try await ServeProcess.start(
                database: database, name: "serve",
                extra: [
                    "--tls-cert", certificates.path("server.pem"), "--tls-key", certificates.path("server.key"),
                    "--tls-client-ca", certificates.path("ca.pem"),
                ])
            defer { Task { await server.stop() } }
            #expect(server.child.log.contains("transport=mtls"))
            #expect(Network.get(port: server.opsPort, path: "/readyz")?.body.contains(#""feed_transport":"mtls""#) == true)

            let now = ISO8601DateFormatter().string(from: Date())
            let pan = "4111111111111111"
            let lines =
                (0..<20).map {
                    #"{"id":"mtls-\#($0)","timestamp":"\#(now)","account_id":"acc-\#($0 % 3)","card_id":"card-\#($0)","amount":"10.00","currency":"EUR","channel":"card_present"}"#
                }
                + [
                    #"{"id":"mtls-pan","timestamp":"\#(now)","account_id":"acc-1","card_id":"\#(pan)","amount":"10.00","currency":"EUR","channel":"card_present"}"#
                ]
            let file = database.folder.appendingPathComponent("feed.ndjson")
            try Data(lines.joined(separator: "\n").utf8 + [10]).write(to: file)

            let sent = try await VigilProcess.run(
                [
                    "feed", "send", file.path, "--port", "\(server.feedPort)", "--connections", "2", "--json",
                    "--tls-ca", certificates.path("ca.pem"), "--tls-cert", certificates.path("client.pem"), "--tls-key",
                    certificates.path("client.key"),
                ], database: nil, in: database.folder)
            #expect(sent.contains(#""acked":20"#) && sent.contains(#""nacked":1"#), "\(sent)")
            #expect(try await database.count("SELECT count(*) FROM transactions WHERE id LIKE 'mtls-%'") == 20)
            // Sessions are written in the background, a moment after their first line.
            #expect(await eventually(timeout: .seconds(10)) { (try? await database.count("SELECT count(*) FROM feed_sessions")) == 2 })
            #expect(try await database.strings("SELECT DISTINCT subject FROM feed_sessions") == ["CN=switch-a,O=Bank A"])
            #expect(try await database.strings("SELECT DISTINCT transport FROM feed_sessions") == ["mtls"])
            // Which sender said what: every stored transaction names its connection's session.
            #expect(
                try await database.count(
                    """
                    SELECT count(*) FROM transactions t JOIN feed_sessions s ON s.id = t.feed_session
                    WHERE t.id LIKE 'mtls-%' AND s.subject = 'CN=switch-a,O=Bank A'
                    """) == 20)
            let rejected = try await database.strings("SELECT error_code || ' ' || raw_line || ' ' || peer FROM rejected_records")
            #expect(rejected.count == 1)
            #expect(rejected.first?.hasPrefix("pan_not_allowed ") == true && rejected.first?.contains("411111******1111") == true)
            #expect(rejected.first?.contains("subject=CN=switch-a,O=Bank A") == true)

            // Without a client certificate: refused at the handshake, nothing stored.
            let plain = try? await VigilProcess.run(
                ["feed", "send", file.path, "--port", "\(server.feedPort)", "--tls-ca", certificates.path("ca.pem")],
                database: nil, in: database.folder)
            #expect(plain == nil, "a client without a certificate was answered: \(plain ?? "")")
            #expect(await eventually(timeout: .seconds(10)) { (try? await server.metric("vigil_feed_tls_handshake_failures_total")) ?? 0 >= 1 })
            #expect(try await database.count("SELECT count(*) FROM transactions") == 20)

            // The dump of the whole database: no card number, no signing secret.
            let dump = try pgDump(database)
            #expect(dump.contains("mtls-19"), "the dump has the data")
            #expect(!dump.contains(pan))
            #expect(!dump.contains(pan.utf8.map { String(format: "%02x", $0) }.joined()), "not in a bytea column either")
            #expect(!dump.contains(secret) && !dump.contains(String(secret.dropFirst(6))))
        }
    }

    private func pgDump(_ database: ScratchDatabase) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["pg_dump", "--data-only", "--no-owner"]
        var env = ProcessInfo.processInfo.environment
        database.apply(to: &env)
        process.environment = env
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw FaultTestError("pg_dump exited \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }
}

extension FaultToleranceTests {
    /// `vigil secrets rotate-key` through the binary: the endpoint's secret is re-sealed
    /// under a new key, `vigil serve` with only the new key delivers, and a verifying
    /// receiver (`vigil webhooks receive`, the consumer's side) accepts every signature.
    @Test("15. secrets rotate-key: serve with the new key keeps delivering, signatures verify with the same whsec", .timeLimit(.minutes(3)))
    func rotateKeyKeepsDeliveriesWorking() async throws {
        try await ScratchDatabase.with("rotate") { database in
            let secret = makeWebhookSecret()
            let hookPort = try Network.freePort()
            let countFile = database.folder.appendingPathComponent("verified.count")
            let receiver = try VigilProcess.start(
                [
                    "webhooks", "receive", "--host", "127.0.0.1", "--port", "\(hookPort)", "--secret", secret, "--count-file", countFile.path,
                    "--quiet",
                ],
                database: nil, log: database.folder.appendingPathComponent("receiver.log"))
            defer { receiver.kill(SIGTERM) }
            let feed = try await GeneratedFeed.make(count: 2_000, seed: 31, fraudRate: 30, into: database)
            try await VigilProcess.run(
                ["webhooks", "add", "http://127.0.0.1:\(hookPort)/hook", "--secret", secret], database: database, in: database.folder)
            let before = try await database.strings("SELECT secret_sealed FROM webhook_endpoints")

            let newKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            let keyFile = database.folder.appendingPathComponent("new.key")
            try Data(newKey.utf8).write(to: keyFile)
            let rotated = try await VigilProcess.run(
                ["secrets", "rotate-key", "--new-key-file", keyFile.path], database: database, in: database.folder)
            #expect(rotated.contains("re-sealed the secrets of 1 webhook endpoint"), "\(rotated)")
            let after = try await database.strings("SELECT secret_sealed FROM webhook_endpoints")
            #expect(after != before && !after.joined().contains(secret))

            let server = try await ServeProcess.start(
                database: database, name: "serve", extra: ["--webhook-allow-loopback"],
                environment: ["VIGIL_SECRET_KEY": newKey])
            defer { Task { await server.stop() } }
            _ = try await FeedStreaming.untilAllAcked(feed.lines, ids: feed.ids, port: server.feedPort, timeout: .seconds(60))
            let alerts = try await database.count("SELECT count(*) FROM alerts")
            #expect(alerts > 0)
            let delivered = await eventually(timeout: .seconds(60), poll: .milliseconds(200)) {
                (try? await database.count("SELECT count(*) FROM webhook_outbox WHERE status = 'delivered'")) == alerts
            }
            let errors = try await database.strings("SELECT coalesce(last_error, '') FROM webhook_outbox WHERE status <> 'delivered' LIMIT 3")
            #expect(delivered, "errors: \(errors)")
            let verified = await eventually(timeout: .seconds(10)) {
                let text = (try? String(contentsOf: countFile, encoding: .utf8)) ?? ""
                return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) == alerts
            }
            #expect(verified, "the receiver verified every delivery's signature")
        }
    }
}
