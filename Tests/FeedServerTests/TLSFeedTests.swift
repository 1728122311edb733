import Crypto
import FeedProtocol
import FeedServer
import Foundation
import ISO8583
import NIOCore
import Synchronization
import Testing
import VigilCore
import VigilTesting

@Suite("Feed over TLS and mutual TLS (real handshakes on loopback)")
struct TLSFeedTests {
    /// Sends one line with `tls` and returns the replies (none when the handshake is refused).
    private func sendOne(port: Int, tls: FeedClientTLS, id: String) async -> [FeedAcknowledgement] {
        do {
            return try await FeedClient.withConnection(host: "127.0.0.1", port: port, tls: tls) { connection in
                try await connection.send(lines: [validLine(id)])
                return try await connection.replies(count: 1)
            }
        } catch {
            return []
        }
    }

    private func mutualTLS(_ certificates: TestCertificates) -> (inout FeedServerConfiguration) -> Void {
        { configuration in
            configuration.tls = FeedTLSConfiguration(
                certificatePath: certificates.path("server.pem"), privateKeyPath: certificates.path("server.key"),
                clientCAPath: certificates.path("ca.pem"))
        }
    }

    @Test("a client with a valid certificate is accepted, and its subject is recorded with each record and its session")
    func validClientCertificate() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let sink = RecordingSink(.answer)
        let sessions = Mutex<[FeedSession]>([])
        try await withFeedServer(
            sink: sink,
            configure: { configuration in
                mutualTLS(certificates)(&configuration)
                configuration.onSession = { session in sessions.withLock { $0.append(session) } }
            }
        ) { port, server, _ in
            #expect(server.transport == .mtls)
            let tls = try FeedClientTLS(
                caPath: certificates.path("ca.pem"), certificatePath: certificates.path("client.pem"), keyPath: certificates.path("client.key"))
            let replies = await sendOne(port: port, tls: tls, id: "tx-mtls-1")
            #expect(replies == [.ack(id: "tx-mtls-1", duplicate: false)])
            let record = try #require(sink.records.first)
            #expect(record.peer.contains("subject=CN=switch-a,O=Bank A"), "\(record.peer)")
            let session = try #require(sessions.withLock { $0.first })
            #expect(session.subject == "CN=switch-a,O=Bank A")
            #expect(session.transport == .mtls)
            #expect(record.session == session.id)
            #expect(server.refusedHandshakes == 0)
        }
    }

    @Test(
        "a client without a certificate, with an expired one, or with one from an unknown CA is refused at the handshake and counted",
        arguments: ["none", "expired", "stranger"])
    func refusedClientCertificates(kind: String) async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let sink = RecordingSink(.answer)
        try await withFeedServer(sink: sink, configure: mutualTLS(certificates)) { port, server, _ in
            let tls =
                kind == "none"
                ? try FeedClientTLS(caPath: certificates.path("ca.pem"), certificatePath: nil, keyPath: nil)
                : try FeedClientTLS(
                    caPath: certificates.path("ca.pem"), certificatePath: certificates.path("\(kind).pem"), keyPath: certificates.path("\(kind).key"))
            let replies = await sendOne(port: port, tls: tls, id: "tx-refused")
            #expect(replies.isEmpty)
            #expect(await eventually { server.refusedHandshakes == 1 })
            #expect(sink.count == 0)
            // A plain-TCP client gets nothing through either.
            let plain = try? await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
                try await connection.send(lines: [validLine("tx-plain")])
                return try await connection.replies(count: 1)
            }
            #expect(plain?.isEmpty ?? true)
            #expect(sink.count == 0)
        }
    }

    @Test("TLS without a client CA accepts any client; SIGHUP's reload swaps the certificate for new connections and keeps open ones")
    func reloadKeepsOpenConnections() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let (live, liveKey) = try installLive("server", from: certificates)
        let sink = RecordingSink(.answer)
        try await withFeedServer(sink: sink, configure: { $0.tls = FeedTLSConfiguration(certificatePath: live, privateKeyPath: liveKey) }) {
            port, server, _ in
            #expect(server.transport == .tls)
            let trustsFirst = try FeedClientTLS(caPath: certificates.path("ca.pem"), certificatePath: nil, keyPath: nil)
            let trustsSecond = try FeedClientTLS(caPath: certificates.path("other-ca.pem"), certificatePath: nil, keyPath: nil)
            try await FeedClient.withConnection(host: "127.0.0.1", port: port, tls: trustsFirst) { open in
                try await open.send(lines: [validLine("before")])
                #expect(try await open.replies(count: 1) == [.ack(id: "before", duplicate: false)])
                // New certificate (another CA) on disk, then the reload SIGHUP triggers.
                _ = try installLive("server2", from: certificates)
                try server.reloadTLS()
                #expect(await sendOne(port: port, tls: trustsSecond, id: "after") == [.ack(id: "after", duplicate: false)])
                #expect(await sendOne(port: port, tls: trustsFirst, id: "old-trust").isEmpty)
                // The connection opened before the reload goes on with its certificate.
                try await open.send(lines: [validLine("still-open")])
                #expect(try await open.replies(count: 1) == [.ack(id: "still-open", duplicate: false)])
            }
            // Unusable files: refused, the running certificate stays.
            try Data("not a key".utf8).write(to: URL(fileURLWithPath: liveKey))
            #expect(throws: FeedServerError.self) { try server.reloadTLS() }
            #expect(await sendOne(port: port, tls: trustsSecond, id: "after-bad-reload") == [.ack(id: "after-bad-reload", duplicate: false)])
        }
    }

    @Test("The ISO 8583 listener serves the feed's TLS files and reloads them as the feed does (SIGHUP reloads both)")
    func iso8583ListenerReloads() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let (live, liveKey) = try installLive("server", from: certificates)
        let packager = try iso87()
        let configure: (inout FeedServerConfiguration) -> Void = {
            $0.wire = .iso8583(ISO8583Wire(packager: packager))
            $0.tls = FeedTLSConfiguration(certificatePath: live, privateKeyPath: liveKey)
        }
        try await withFeedServer(sink: RecordingSink(.answer), configure: configure) { port, server, _ in
            #expect(server.transport == .tls)
            let trustsFirst = try FeedClientTLS(caPath: certificates.path("ca.pem"), certificatePath: nil, keyPath: nil)
            let trustsSecond = try FeedClientTLS(caPath: certificates.path("other-ca.pem"), certificatePath: nil, keyPath: nil)
            #expect(await isoAnswered(port: port, tls: trustsFirst, packager: packager, stan: "000001"))
            _ = try installLive("server2", from: certificates)
            try server.reloadTLS()
            #expect(await isoAnswered(port: port, tls: trustsSecond, packager: packager, stan: "000002"))
            #expect(await !isoAnswered(port: port, tls: trustsFirst, packager: packager, stan: "000003"))
        }
    }

    /// Makes `NAME.pem` and `NAME.key` the server's live certificate files (`live.pem`,
    /// `live.key`, replaced if there), as an operator does before a reload.
    private func installLive(_ name: String, from certificates: TestCertificates) throws -> (certificate: String, key: String) {
        let live = (certificate: certificates.path("live.pem"), key: certificates.path("live.key"))
        for (source, target) in [(certificates.path("\(name).pem"), live.certificate), (certificates.path("\(name).key"), live.key)] {
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.copyItem(atPath: source, toPath: target)
        }
        return live
    }

    /// Whether a 0200 sent over a new TLS connection gets its 0210.
    private func isoAnswered(port: Int, tls: FeedClientTLS, packager: ISO8583Packager, stan: String) async -> Bool {
        do {
            return try await FeedClient.withConnection(host: "127.0.0.1", port: port, tls: tls, iso8583: packager) { connection in
                try await connection.send(bytes: try packager.encode(financialRequest(stan: stan)))
                _ = try await connection.nextReply()
                return connection.lastResponse?.mtiText == "0210"
            }
        } catch {
            return false
        }
    }
}

@Suite("Card numbers (PANs) on the feed")
struct PANFeedTests {
    private func line(id: String, card: String) -> String {
        validLine(id).replacingOccurrences(of: #""channel""#, with: #""card_id":"\#(card)","channel""#)
    }

    @Test("by default a line with a PAN is nacked pan_not_allowed and its stored bytes are masked (first 6, last 4)")
    func rejectedAndMasked() async throws {
        let sink = RecordingSink(.answer)
        try await withFeedServer(sink: sink) { port, _, _ in
            let replies = try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
                try await connection.send(lines: [line(id: "tx-pan", card: "4111 1111 1111 1111"), line(id: "tx-token", card: "card-9")])
                return try await connection.replies(count: 2)
            }
            guard case .nack(let id, let code, let message) = replies.first else {
                Issue.record("expected a nack, got \(replies)")
                return
            }
            #expect(id == "tx-pan" && code == "pan_not_allowed")
            #expect(message.contains("4111 11** **** 1111") && !message.contains("4111 1111 1111 1111"))
            #expect(replies.last == .ack(id: "tx-token", duplicate: false))
            let stored = String(decoding: try #require(sink.records.first).rawLine, as: UTF8.self)
            #expect(stored.contains("4111 11** **** 1111") && !stored.contains("1111 1111 1111"))
        }
    }

    @Test("with --pan-policy tokenize the PAN is replaced by a keyed token everywhere before the pipeline sees the line")
    func tokenized() async throws {
        let key = SymmetricKey(size: .bits256)
        let sink = RecordingSink(.answer)
        try await withFeedServer(sink: sink, configure: { $0.panPolicy = .tokenize(key: key) }) { port, _, _ in
            let replies = try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
                try await connection.send(lines: [line(id: "tx-a", card: "4111111111111111"), line(id: "tx-b", card: "4111-1111-1111-1111")])
                return try await connection.replies(count: 2)
            }
            #expect(replies == [.ack(id: "tx-a", duplicate: false), .ack(id: "tx-b", duplicate: false)])
            let cards = sink.records.compactMap { record -> String? in
                if case .transaction(let transaction) = record.payload { return transaction.cardID }
                return nil
            }
            let expected = String(decoding: PANPolicy.token(for: Array("4111111111111111".utf8), key: key), as: UTF8.self)
            #expect(cards == [expected, expected])  // same card, same token, whatever the grouping
            #expect(expected.hasPrefix("tok_") && expected.count == 26)
            for record in sink.records {
                #expect(!String(decoding: record.rawLine, as: UTF8.self).contains("1111"))
            }
        }
    }
}
