import Foundation
import Testing
import VigilCore

@testable import FeedProtocol

@Suite struct FeedReplyTests {
    func text(_ reply: FeedReply) -> String { String(decoding: reply.bytes, as: UTF8.self) }

    @Test func ackLines() {
        #expect(text(.ack(id: "tx-000001", duplicate: false)) == "{\"ack\":\"tx-000001\"}\n")
        #expect(text(.ack(id: "tx-000001", duplicate: true)) == "{\"ack\":\"tx-000001\",\"duplicate\":true}\n")
    }

    @Test func ackLinesCarryTheDecisionAfterTheExistingFields() {
        let block = TransactionDecision(outcome: .block, score: 90, rules: ["card_testing", "q\"uote"], ruleset: "rs-00ab")
        #expect(
            text(.ack(id: "tx-1", duplicate: false, decision: block))
                == #"{"ack":"tx-1","decision":"block","score":90,"rules":["card_testing","q\"uote"],"ruleset":"rs-00ab"}"# + "\n")
        #expect(
            text(.ack(id: "tx-1", duplicate: true, decision: block))
                == #"{"ack":"tx-1","duplicate":true,"decision":"block","score":90,"rules":["card_testing","q\"uote"],"ruleset":"rs-00ab"}"# + "\n")
        // A fallback: no ruleset decided, and the reply says why.
        #expect(
            text(.ack(id: "tx-2", duplicate: false, decision: .fallback(.review, reason: .budget)))
                == #"{"ack":"tx-2","decision":"review","score":0,"rules":[],"degraded":"budget"}"# + "\n")
        let allow = TransactionDecision(outcome: .allow, score: 0, rules: [], ruleset: "rs-1")
        #expect(
            text(.ack(id: "tx-3", duplicate: false, decision: allow)) == #"{"ack":"tx-3","decision":"allow","score":0,"rules":[],"ruleset":"rs-1"}"#
                + "\n")
    }

    @Test func nackLinesEscapeAndUseNullWithoutID() {
        let r = FeedRejection(code: .invalidCurrency, recordID: "tx-\"1\"\\", field: "currency", message: "bad \"EUX\"\n\u{1}")
        #expect(text(.nack(r)) == #"{"nack":"tx-\"1\"\\","error":"invalid_currency","message":"bad \"EUX\"\n\u0001"}"# + "\n")
        let noID = FeedRejection(code: .invalidJSON, message: "x")
        #expect(text(.nack(noID)) == "{\"nack\":null,\"error\":\"invalid_json\",\"message\":\"x\"}\n")
    }

    @Test func repliesAppendToOneBuffer() {
        var out: [UInt8] = []
        FeedReply.appendAck(id: "a", to: &out)
        FeedReply.appendAck(id: "b", duplicate: true, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "{\"ack\":\"a\"}\n{\"ack\":\"b\",\"duplicate\":true}\n")
    }

    @Test func nackMessagesAreValidJSONStringsForEveryRejection() throws {
        // Whatever the decoder says, the reply line must itself scan as JSON.
        for bad in ["{", "{\"id\":\"\\u00e9\\n\"}", line(replacing: "currency", with: "\"XX\"")] {
            guard case .failure(let r) = decode(bad) else { continue }
            let bytes = FeedReply.nack(r).bytes.dropLast()
            try Array(bytes).withUnsafeBufferPointer { buffer in
                var scanner = JSONScanner(buffer, maximumDepth: 4)
                try scanner.beginObject()
                while try scanner.nextKey() != nil { _ = try scanner.value() }
                try scanner.end()
            }
        }
    }
}

@Test("a standby's not_leader line names the leader's feed address, for clients to move to")
func notLeaderLine() throws {
    let line = FeedReply.nack(.notLeader(leader: "10.0.0.5:7400")).bytes
    let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
    #expect(object["nack"] is NSNull)
    #expect(object["error"] as? String == "not_leader")
    #expect(object["leader"] as? String == "10.0.0.5:7400")
    #expect((object["message"] as? String)?.contains("10.0.0.5:7400") == true)
    let unknown = try #require(try JSONSerialization.jsonObject(with: Data(FeedReply.nack(.notLeader(leader: nil)).bytes)) as? [String: Any])
    #expect(unknown["leader"] == nil && (unknown["message"] as? String)?.contains("takeover") == true)
}
