import Foundation
import Testing
import VigilCore

@testable import WebhookDelivery

@Suite("alert.created body")
struct AlertEventBodyTests {
    static func body(transaction: String = #"{"id":"tx-1","amount":"125.40","currency":"EUR"}"#) throws -> String {
        let currency = try #require(Currency(code: "EUR"))
        return AlertEventBody.make(
            alertID: 42, transactionID: "tx-1", accountID: "acc \"1\"\n", amount: Money(minorUnits: 12540, currency: currency),
            severity: "high", totalScore: 70,
            rules: [
                .init(id: "velocity", severity: "high", score: 40, reason: "5 card-not-present payments in 10m"),
                .init(id: "new_country", severity: "medium", score: 30, reason: "first payment from \u{2028}FR\u{01}"),
            ],
            rulesetVersion: "sha256:abc", createdAt: Timestamp(secondsSinceEpoch: 1_795_000_000), transactionJSON: transaction,
            decision: .block, degraded: .budget
        )
    }

    @Test func isValidJSONWithEveryField() throws {
        let text = try Self.body()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["type"] as? String == "alert.created")
        #expect(object["timestamp"] as? String == "2026-11-18T11:06:40.000000Z")
        let data = try #require(object["data"] as? [String: Any])
        #expect(data["alert_id"] as? Int == 42)
        #expect(data["transaction_id"] as? String == "tx-1")
        #expect(data["account_id"] as? String == "acc \"1\"\n")
        #expect(data["amount"] as? String == "125.40")
        #expect(data["currency"] as? String == "EUR")
        #expect(data["severity"] as? String == "high")
        #expect(data["total_score"] as? Int == 70)
        #expect(data["ruleset_version"] as? String == "sha256:abc")
        #expect(data["decision"] as? String == "block")
        #expect(data["decision_degraded"] as? String == "budget")
        let rules = try #require(data["rules"] as? [[String: Any]])
        #expect(rules.count == 2)
        #expect(rules[1]["reason"] as? String == "first payment from \u{2028}FR\u{01}")
        let transaction = try #require(data["transaction"] as? [String: Any])
        #expect(transaction["amount"] as? String == "125.40")
        #expect(WebhookJSON.isObject(text))
    }

    @Test func aTransactionThatIsNotAnObjectIsEmbeddedAsAString() throws {
        let text = try Self.body(transaction: #"{"id":"tx-1",}"#)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let data = try #require(object["data"] as? [String: Any])
        #expect(data["transaction"] is NSNull)
        #expect(data["transaction_raw"] as? String == #"{"id":"tx-1",}"#)
    }

    @Test(arguments: [
        (#"{}"#, true), (#" {"a":[1,-2.5e3,true,null,{"b":"\u00e9\n"}]} "#, true), (#"{"a":01}"#, false),
        (#"{"a":1"#, false), (#"[1]"#, false), (#"{"a":"x\q"}"#, false), (#"{"a":1} x"#, false), ("{\"a\":\"\u{01}\"}", false),
    ])
    func validatorAgreesWithTheGrammar(text: String, valid: Bool) {
        #expect(WebhookJSON.isObject(text) == valid)
    }

    @Test func bodyMatchesThePublishedSchemaRequiredFields() throws {
        let schemaURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Schemas/webhook-alert-created.schema.json")
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: schemaURL)) as? [String: Any])
        let required = try #require(schema["required"] as? [String])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(try Self.body().utf8)) as? [String: Any])
        for key in required { #expect(object[key] != nil, "missing \(key)") }
        let properties = try #require(schema["properties"] as? [String: Any])
        let dataSchema = try #require(properties["data"] as? [String: Any])
        let dataRequired = try #require(dataSchema["required"] as? [String])
        let data = try #require(object["data"] as? [String: Any])
        for key in dataRequired { #expect(data[key] != nil, "missing data.\(key)") }
        let dataProperties = try #require(dataSchema["properties"] as? [String: Any])
        for key in data.keys { #expect(dataProperties[key] != nil, "data.\(key) is not in the schema") }
        // The decision's values are the ones the schema lists (null included, for old transactions).
        let decision = try #require(dataProperties["decision"] as? [String: Any])
        let allowed = try #require(decision["enum"] as? [Any])
        let names = Set(allowed.compactMap { $0 as? String })
        #expect(names == Set(DecisionOutcome.allCases.map(\.rawValue)))
        #expect(allowed.contains { $0 is NSNull })
        let degraded = try #require(dataProperties["decision_degraded"] as? [String: Any])
        let reasons = Set((degraded["enum"] as? [Any] ?? []).compactMap { $0 as? String })
        #expect(reasons == Set(DegradedReason.allCases.map(\.rawValue)))
    }
}
