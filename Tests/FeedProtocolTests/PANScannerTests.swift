import Testing
import VigilCore

@testable import FeedProtocol

@Suite("PAN detection (13–19 digits in a string, Luhn)")
struct PANScannerTests {
    @Test(arguments: [
        "4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "5500005555555559", "378282246310005",
        "6011111111111117", "4000056655665556", "4222222222222", "6759649826438453", "4111111111111111110",
    ])
    func knownTestCardNumbersAreFound(pan: String) {
        #expect(PANScanner.isPAN(pan), "\(pan)")
    }

    @Test(arguments: [
        "4111111111111112",  // Luhn fails
        "411111111111",  // 12 digits
        "41111111111111111111",  // 20 digits
        "4111  1111 1111 1111",  // double separator splits the run
        "card-9", "tx-000001", "2026-11-24T10:15:00.123Z", "203.0.113.5", "",
    ])
    func otherStringsAreNot(text: String) {
        #expect(!PANScanner.isPAN(text), "\(text)")
        #expect(PANScanner.find(in: Array("\"\(text)\"".utf8)).isEmpty || text == "4111  1111 1111 1111")
    }

    @Test func onlyStringsAreScannedAndEveryFieldCounts() {
        let number = #"{"id":"a","amount":"1.00","epoch_ms":4111111111111111,"lat":52.5200000000000031}"#
        #expect(PANScanner.find(in: Array(number.utf8)).isEmpty)
        let inID = #"{"id":"tx-4111111111111111","note":"x\"4111111111111111"}"#
        #expect(PANScanner.find(in: Array(inID.utf8)).count == 2)
    }

    @Test func redactionKeepsFirstSixAndLastFour() {
        let line = Array(#"{"card_id":"4111-1111-1111-1111","x":"5500005555555559"}"#.utf8)
        let masked = String(decoding: PANScanner.redact(line, PANScanner.find(in: line)), as: UTF8.self)
        #expect(masked == #"{"card_id":"4111-11**-****-1111","x":"550000******5559"}"#)
        #expect(PANScanner.find(in: Array(masked.utf8)).isEmpty)
    }

    @Test func replacementRewritesEachNumber() {
        let line = Array(#"{"card_id":"4111 1111 1111 1111","id":"t"}"#.utf8)
        let out = PANScanner.replace(line, PANScanner.find(in: line)) { digits in Array("tok_\(digits.count)".utf8) }
        #expect(String(decoding: out, as: UTF8.self) == #"{"card_id":"tok_16","id":"t"}"#)
    }

    @Test func costPerLine() {
        // Printed, not asserted (shared machine): the scan's cost on a typical clean line,
        // next to the decoder's own cost on the same lines.
        let lines = (0..<1_000).map { Array(line(replacing: "id", with: "\"tx-\(100_000_000 + $0)\"").utf8) }
        let clock = ContinuousClock()
        let rounds = 200
        var found = 0
        let scan = clock.measure {
            for _ in 0..<rounds { for l in lines { found += PANScanner.find(in: l).count } }
        }
        let decoder = FeedDecoder()
        var decoded = 0
        let decode = clock.measure {
            for _ in 0..<rounds { for l in lines where (try? decoder.decode(l, now: testNow)) != nil { decoded += 1 } }
        }
        func nanos(_ d: Duration) -> Double {
            (Double(d.components.seconds) * 1e18 + Double(d.components.attoseconds)) / 1e9 / Double(lines.count * rounds)
        }
        print("PAN scan: \(Int(nanos(scan))) ns/line; FeedDecoder: \(Int(nanos(decode))) ns/line (\(lines[0].count)-byte lines)")
        #expect(found == 0)
        #expect(decoded == lines.count * rounds)
    }
}
