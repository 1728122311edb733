import FeedServer
import Foundation
import ISO8583
import Pipeline
import PostgresStore
import Secrets
import Testing
import VigilCore
import VigilTesting

/// The shipped ISO87A dialect, read from the repository.
func iso87Packager() throws -> ISO8583Packager {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return try ISO8583Packager.load(path: root.appendingPathComponent("Packagers/iso87ascii.json").path)
}

/// Field 7 for a moment a minute ago (UTC), so the request is inside the feed's time window.
func transmissionTime(secondsAgo: Int64 = 60) -> String {
    let (date, time) = RFC3339.components(Timestamp.now().adding(microseconds: -secondsAgo * 1_000_000))
    return [date.month, date.day, time.hour, time.minute, time.second].map { $0 < 10 ? "0\($0)" : "\($0)" }.joined()
}

/// A request with the correlation fields and what a transaction needs; `extra` overrides.
func isoRequest(_ mti: String, stan: String, time: String, extra: [Int: String] = [:]) -> ISO8583Message {
    var fields: [Int: String] = [
        3: "000000", 4: "000000012540", 7: time, 11: stan, 18: "5411", 22: "051", 37: "612345\(stan)", 41: "TERM0001",
        42: "MERCHANT0000001", 49: "978", 102: "acc-iso-1",
    ]
    for (field, value) in extra { fields[field] = value }
    return ISO8583Message(mti: mti, fields: fields)
}

/// Runs Vigil with its ISO 8583 listener on a free port; `body` gets that port.
func withISO8583Vigil(
    database: PostgresConfiguration, panPolicy: PANPolicy = .reject, rules: String = noRules,
    _ body: @Sendable (VigilServer, Int) async throws -> Void
) async throws {
    let packager = try iso87Packager()
    try await withVigil(
        database: database, ruleset: try compileRules(["r.rules": rules]),
        configure: { configuration in
            configuration.feed.panPolicy = panPolicy
            var listener = configuration.feed
            listener.port = 0
            listener.wire = .iso8583(ISO8583Wire(packager: packager))
            listener.metricsPrefix = "vigil_iso8583"
            configuration.iso8583 = listener
        }
    ) { server, _ in
        guard let port = await server.iso8583?.boundAddress()?.port else { throw HarnessError(message: "the ISO 8583 listener did not bind") }
        try await body(server, port)
    }
}

/// Sends one request and returns its response (nil when the server closed the connection).
func exchange(_ connection: FeedClientConnection, _ message: ISO8583Message, _ packager: ISO8583Packager) async throws -> ISO8583Message? {
    try await connection.send(bytes: try packager.encode(message))
    guard try await connection.nextReply() != nil else { return nil }
    return connection.lastResponse
}

@Suite("ISO 8583 through the TCP port, real PostgreSQL")
struct ISO8583IngestTests {
    static let decidingRules = """
        rule blocked_terminal_merchant {
          description "a merchant the test blocks"
          require merchant_id
          when merchant_id == "MERCHANT0000666"
          severity critical
          score 100
          action block
          reason "merchant {merchant_id} is blocked"
        }
        rule large_amount {
          description "large amounts are reviewed"
          when amount >= 1000.00
          severity medium
          score 40
          action review
          reason "{amount} is large"
        }
        """

    @Test("field 39 carries the decision: block is 05, review and allow 00, a repeated request the stored decision's code")
    func decisionInResponseCode() async throws {
        try await TestDatabase.withMigrated { database in
            let packager = try iso87Packager()
            let time = transmissionTime()
            try await withISO8583Vigil(database: database, rules: Self.decidingRules) { _, port in
                try await FeedClient.withConnection(host: "127.0.0.1", port: port, iso8583: packager) { connection in
                    let blocked = isoRequest("0100", stan: "000301", time: time, extra: [42: "MERCHANT0000666"])
                    let blockedAnswer = try await exchange(connection, blocked, packager)
                    #expect(blockedAnswer?.text(39) == "05")
                    let large = isoRequest("0200", stan: "000302", time: time, extra: [4: "000000250000"])
                    let largeAnswer = try await exchange(connection, large, packager)
                    #expect(largeAnswer?.text(39) == "00")
                    let plain = isoRequest("0100", stan: "000303", time: time)
                    let plainAnswer = try await exchange(connection, plain, packager)
                    #expect(plainAnswer?.text(39) == "00")
                    // The replay of the blocked request: answered from the stored decision.
                    let replayAnswer = try await exchange(connection, blocked, packager)
                    #expect(replayAnswer?.text(39) == "05")
                    // What `vigil feed send --format iso8583` reads: field 39 as ack or nack.
                    try await connection.send(bytes: try packager.encode(isoRequest("0100", stan: "000304", time: time)))
                    let read = try await connection.nextDecidedReply()
                    if case .ack = read?.reply {} else { Issue.record("expected an ack for 00, got \(String(describing: read))") }
                    try await connection.send(bytes: try packager.encode(blocked))
                    let refused = try await connection.nextDecidedReply()
                    if case .nack(_, let code, _) = refused?.reply { #expect(code == "iso8583_39_05") } else { Issue.record("expected a nack") }
                }
            }
            let decisions = try await PostgresConnection.withConnection(database) { db in
                try await db.query("SELECT decision FROM transactions").map { try $0.decode(0, as: String.self) }
            }
            #expect(decisions.sorted() == ["allow", "allow", "block", "review"])
        }
    }

    @Test("every MTI is answered in kind; a duplicate gets the stored response; reversals are stored; bad frames are refused")
    func everyMessageType() async throws {
        try await TestDatabase.withMigrated { database in
            let packager = try iso87Packager()
            let time = transmissionTime()
            try await withISO8583Vigil(database: database) { _, port in
                try await FeedClient.withConnection(host: "127.0.0.1", port: port, iso8583: packager) { connection in
                    let echo = try await exchange(connection, ISO8583Message(mti: "0800", fields: [7: time, 11: "000001", 70: "301"]), packager)
                    #expect(echo?.mtiText == "0810")
                    #expect(echo?.text(39) == "00")
                    #expect(echo?.text(70) == "301")

                    let authorisation = isoRequest("0100", stan: "000123", time: time)
                    let answer = try await exchange(connection, authorisation, packager)
                    #expect(answer?.mtiText == "0110")
                    #expect(answer?.text(39) == "00")
                    for field in [11, 37, 41, 42] { #expect(answer?[field] == authorisation[field]) }

                    let financial = isoRequest("0200", stan: "000124", time: time, extra: [22: "812"])
                    #expect(try await exchange(connection, financial, packager)?.text(39) == "00")
                    // The same request again: the stored response, not a second transaction.
                    let repeated = try await exchange(connection, financial, packager)
                    #expect(repeated?.mtiText == "0210")
                    #expect(repeated?.text(39) == "00")

                    let original = "0100" + "000123" + time + "00000000000" + "00000000000"
                    let reversal = isoRequest("0400", stan: "000125", time: time, extra: [37: "612345000123", 90: original])
                    let reversed = try await exchange(connection, reversal, packager)
                    #expect(reversed?.mtiText == "0410")
                    #expect(reversed?.text(39) == "00")
                    #expect(reversed?.text(90) == original)
                    let advice = isoRequest("0420", stan: "000126", time: time, extra: [37: "612345000123", 90: original])
                    #expect(try await exchange(connection, advice, packager)?.mtiText == "0430")
                    // A repeat of the reversal is answered the same and stored once.
                    #expect(try await exchange(connection, reversal, packager)?.text(39) == "00")

                    // A card number under --pan-policy reject: refused, never stored in clear.
                    let withPAN = isoRequest("0100", stan: "000127", time: time, extra: [2: "4111111111111111"])
                    let refused = try await exchange(connection, withPAN, packager)
                    #expect(refused?.mtiText == "0110")
                    #expect(refused?.text(39) == "30")
                    #expect(refused?[2] == nil)

                    // Malformed but answerable: a letter in the amount.
                    var frame = try packager.encode(isoRequest("0200", stan: "000128", time: time))
                    let amountAt = 2 + 4 + 32 + 6 + 11  // header, MTI, two bitmaps, field 3, into field 4
                    frame[amountAt] = UInt8(ascii: "A")
                    try await connection.send(bytes: frame)
                    #expect(try await connection.nextReply() != nil)
                    #expect(connection.lastResponse?.mtiText == "0210")
                    #expect(connection.lastResponse?.text(39) == "30")
                    #expect(connection.lastResponse?.text(11) == "000128")

                    // Malformed beyond answering (a bitmap that is not hex): the connection is closed.
                    try await connection.send(bytes: [0, 20] + Array("0100ZZZZ000000000000".utf8))
                    #expect(try await connection.nextReply() == nil)
                }
                let db = try await PostgresConnection.connect(database)
                let originalID = "8583:\(time):TERM0001:000123:612345000123"
                #expect(try await db.count("SELECT count(*) FROM transactions") == 2)
                #expect(try await db.count("SELECT count(*) FROM transactions WHERE id = \(originalID)") == 1)
                #expect(try await db.count("SELECT count(*) FROM reversals") == 2)
                #expect(
                    try await db.count("SELECT count(*) FROM transaction_reversals WHERE transaction_id = \(originalID) AND reversal_count = 2") == 1)
                #expect(try await db.count("SELECT count(*) FROM rejected_records WHERE error_code = 'pan_not_allowed'") == 1)
                #expect(try await db.count("SELECT count(*) FROM rejected_records WHERE raw_line LIKE '%4111111111111111%'") == 0)
                #expect(try await db.count("SELECT count(*) FROM rejected_records WHERE raw_line LIKE '%411111******1111%'") == 1)
                #expect(try await db.count("SELECT count(*) FROM rejected_records WHERE error_code = 'invalid_iso8583'") == 2)
                #expect(try await db.count("SELECT count(*) FROM transactions WHERE raw->'iso8583'->>'stan' = '000124'") == 1)
            }
        }
    }

    @Test("with --pan-policy tokenize the card number becomes its token before anything is stored")
    func tokenizedCard() async throws {
        try await TestDatabase.withMigrated { database in
            let packager = try iso87Packager()
            let key = try SecretKey(bytes: [UInt8](repeating: 7, count: 32))
            try await withISO8583Vigil(database: database, panPolicy: .tokenize(key: key.tokenKey)) { _, port in
                let request = isoRequest("0100", stan: "000200", time: transmissionTime(), extra: [2: "4111111111111111"])
                let answer = try await FeedClient.withConnection(host: "127.0.0.1", port: port, iso8583: packager) {
                    try await exchange($0, request, packager)
                }
                #expect(answer?.text(39) == "00")
                let db = try await PostgresConnection.connect(database)
                #expect(try await db.count("SELECT count(*) FROM transactions WHERE card_id LIKE 'tok_%'") == 1)
                #expect(try await db.count("SELECT count(*) FROM transactions WHERE raw::text LIKE '%4111111111111111%'") == 0)
            }
        }
    }
}
