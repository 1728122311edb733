import Foundation
import PostgresStore
import Testing
import VigilCore
import VigilTesting

@Suite("Content digests: a replay against an id reused for other content")
struct ContentDigestTests {
    static func transaction(
        _ id: String = "tx-1", account: String = "acc-1", minor: Int64 = 1000, currency: String = "EUR",
        card: String? = "card-9", latitude: Double? = 52.52, longitude: Double? = 13.4
    ) throws -> Transaction {
        Transaction(
            id: id, timestamp: try #require(RFC3339.parse("2026-11-24T10:15:00.123Z")), accountID: account, cardID: card,
            amount: Money(minorUnits: minor, currency: try #require(Currency(code: currency))), mcc: "5411",
            country: "DE", channel: .cardPresent, latitude: latitude, longitude: longitude)
    }

    @Test("the digest is SHA-256 of the documented canonical encoding (checked by PostgreSQL's sha256)")
    func documentedEncoding() async throws {
        let tx = try Self.transaction()
        // The encoding spelled out independently of the implementation, field by field.
        var bytes = Array("vigil-tx-content-v1".utf8) + [0]
        func text(_ value: String?) {
            guard let value else { return bytes.append(0) }
            let utf8 = Array(value.utf8)
            bytes += [1] + withUnsafeBytes(of: UInt32(utf8.count).bigEndian, Array.init) + utf8
        }
        func integer(_ value: Int64) { bytes += [2] + withUnsafeBytes(of: value.bigEndian, Array.init) }
        func double(_ value: Double?) {
            guard let value else { return bytes.append(0) }
            bytes += [3] + withUnsafeBytes(of: value.bitPattern.bigEndian, Array.init)
        }
        text("tx-1")
        integer(tx.timestamp.microsecondsSinceEpoch)
        text("acc-1")
        text("card-9")
        integer(1000)
        text("EUR")
        text(nil)
        text("5411")
        text("DE")
        text("card_present")
        text(nil)
        text(nil)
        double(52.52)
        double(13.4)

        try await TestDatabase.withMigrated { configuration in
            let db = try await PostgresConnection.connect(configuration)
            let expected = try await db.query("SELECT sha256(\(PostgresBytes(bytes)))").first?.decode(0, as: PostgresBytes.self)
            #expect(ContentDigest(of: tx).bytes == expected?.bytes)
            #expect(ContentDigest(of: tx).description.count == 64)
        }
    }

    @Test("every field is part of the content; equal transactions have equal digests")
    func fieldsCount() throws {
        let base = ContentDigest(of: try Self.transaction())
        #expect(ContentDigest(of: try Self.transaction()) == base)
        let variants = [
            try Self.transaction("tx-2"), try Self.transaction(account: "acc-2"), try Self.transaction(minor: 1001),
            try Self.transaction(currency: "USD"), try Self.transaction(card: nil), try Self.transaction(card: ""),
            try Self.transaction(latitude: nil, longitude: nil), try Self.transaction(longitude: 13.41),
        ]
        for variant in variants { #expect(ContentDigest(of: variant) != base, "\(variant)") }
        // A field's text cannot run into the next one: the length comes first.
        #expect(
            ContentDigest(of: try Self.transaction("tx-1", account: "acc-1")) != ContentDigest(of: try Self.transaction("tx-1a", account: "cc-1")))
        #expect(ContentDigest(bytes: base.bytes) == base)
        #expect(ContentDigest(bytes: [1, 2, 3]) == nil)
    }

    @Test("the store settles a repeated id by content: replay, conflict, in one batch and across batches, rows from before digests")
    func storeSettlesByContent() async throws {
        try await TestDatabase.withMigrated { configuration in
            let db = try await PostgresConnection.connect(configuration)
            func record(_ tx: Transaction, peer: String = "10.0.0.1:5000") -> TransactionRow {
                TransactionRow(tx, rawLine: Array(#"{"id":"\#(tx.id)","amount_minor":\#(tx.amount.minorUnits)}"#.utf8), peer: peer)
            }
            let original = try Self.transaction("tx-1")
            let other = try Self.transaction("tx-1", account: "acc-2", minor: 999_900, currency: "USD")
            // In one batch (the direct COPY): the repeat with the same content is a replay, the other a conflict.
            let first = try await db.storeIngestBatch([record(original), record(original), record(other)])
            #expect(first.count == 3 && first[0] == .stored && first[1] == .duplicate)
            guard case .idConflict(let message, let stored, let received) = first[2] else {
                Issue.record("expected an id conflict: \(first[2])")
                return
            }
            #expect(message.contains("'tx-1'") && message.contains("new id"))
            #expect(stored == ContentDigest(of: original) && received == ContentDigest(of: other))
            // Across batches (the tolerant path): the conflict first, then the replay, then a new id.
            let second = try await db.storeIngestBatch([record(other), record(original), record(try Self.transaction("tx-2"))])
            #expect(second[1] == .duplicate && second[2] == .stored)
            if case .idConflict = second[0] {} else { Issue.record("expected an id conflict: \(second[0])") }

            let rows = try await db.query(
                """
                SELECT record_id, error_code, peer, stored_digest, received_digest, raw_line FROM rejected_records ORDER BY id
                """)
            #expect(rows.count == 2)
            for row in rows {
                #expect(try row.decode(1, as: String.self) == "id_conflict")
                #expect(try row.decode(2, as: String.self) == "10.0.0.1:5000")
                #expect(try row.decode(3, as: PostgresBytes.self).bytes == ContentDigest(of: original).bytes)
                #expect(try row.decode(4, as: PostgresBytes.self).bytes == ContentDigest(of: other).bytes)
                #expect(try row.decode(5, as: String.self).contains("999900"))
            }
            let kept = try await db.query("SELECT account_id, amount_minor, currency, content_digest FROM transactions WHERE id = 'tx-1'")
            #expect(try kept.first?.decode(0, as: String.self) == "acc-1")
            #expect(try kept.first?.decode(1, as: Int64.self) == 1000)
            #expect(try kept.first?.decode(2, as: String.self) == "EUR")
            #expect(try kept.first?.decode(3, as: PostgresBytes.self).bytes == ContentDigest(of: original).bytes)

            // A row stored before digests were kept cannot be compared: any content is a replay.
            try await db.execute("UPDATE transactions SET content_digest = NULL WHERE id = 'tx-2'")
            let legacy = try await db.storeIngestBatch([
                record(try Self.transaction("tx-2", minor: 5)), record(try Self.transaction("tx-2", minor: 6)),
            ])
            #expect(legacy == [.duplicate, .duplicate])
        }
    }
}
