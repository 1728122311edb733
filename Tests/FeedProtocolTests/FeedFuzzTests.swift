import Testing
import VigilCore

@testable import FeedProtocol

/// A tiny seeded generator so fuzz failures reproduce.
struct FuzzRNG: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct FeedFuzzTests {
    let decoder = FeedDecoder()

    /// Decodes and checks the invariants of either outcome; a trap fails the whole run.
    func check(_ bytes: [UInt8]) {
        do {
            let tx = try decoder.decode(bytes, now: testNow)
            #expect(tx.amount.minorUnits > 0)
            #expect(!tx.id.isEmpty)
        } catch {
            #expect(!error.message.isEmpty)
            var out: [UInt8] = []
            FeedReply.appendNack(error, to: &out)
            #expect(out.last == 0x0A)
        }
    }

    @Test func randomBytesNeverTrap() {
        var rng = FuzzRNG(state: 1)
        let alphabet = Array("{}[]\":,\\u0123456789abcdefnulltrue-+.eE \t".utf8) + [0x00, 0x80, 0xC3, 0xA9, 0xED, 0xF0, 0xFF]
        for _ in 0..<20_000 {
            let n = Int.random(in: 0...80, using: &rng)
            let bytes = (0..<n).map { _ in Bool.random(using: &rng) ? alphabet.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng) }
            check(bytes)
        }
    }

    @Test func mutationsOfValidLinesNeverTrap() {
        var rng = FuzzRNG(state: 2)
        let base = Array(validLine.utf8)
        var accepted = 0
        for _ in 0..<30_000 {
            var bytes = base
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                guard !bytes.isEmpty else { break }
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: bytes[i] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.remove(at: i)
                case 2: bytes.insert(bytes[Int.random(in: 0..<bytes.count, using: &rng)], at: i)
                default: bytes.removeSubrange(i..<min(bytes.count, i + Int.random(in: 1...10, using: &rng)))
                }
            }
            if (try? decoder.decode(bytes, now: testNow)) != nil { accepted += 1 }
            check(bytes)
        }
        #expect(accepted > 0)
    }

    @Test func pathologicalInputsNeverTrap() {
        let huge = String(repeating: "9", count: 70_000)
        for text in [
            line(replacing: "lat", with: huge), line(replacing: "lat", with: "-" + huge + ".5e99999"),
            line(replacing: "amount", with: "\"\(huge)\""),
            line(replacing: "x", with: "\"" + String(repeating: "\\ud83d\\ude00", count: 5000) + "\""),
            line(replacing: "x", with: String(repeating: "{\"a\":", count: 5000)), String(repeating: "{", count: 100_000),
            line(replacing: "id", with: "\"\\u"), "{\"id\":\"\\", line(replacing: "timestamp", with: #""9999-12-31T23:59:59.999999999999Z""#),
            line(replacing: "timestamp", with: #""0000-01-01T00:00:00-23:59""#),
        ] {
            check(Array(text.utf8))
        }
    }

    @Test func throughputOfTypicalLines() {
        // Printed, not asserted: the machine is shared. Use `-c release` for real figures.
        var lines: [[UInt8]] = []
        for i in 0..<1_000 {
            lines.append(Array(line(replacing: "id", with: "\"tx-\(100_000_000 + i)\"").utf8))
        }
        let clock = ContinuousClock()
        var decoded = 0
        let rounds = 100
        let elapsed = clock.measure {
            for _ in 0..<rounds {
                for l in lines where (try? decoder.decode(l, now: testNow)) != nil { decoded += 1 }
            }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let bytes = lines.reduce(0) { $0 + $1.count } * rounds
        print(
            "FeedDecoder throughput: \(Int(Double(decoded) / seconds)) lines/s, \(Int(Double(bytes) / seconds / 1_048_576)) MiB/s (\(decoded) lines of ~\(lines[0].count) bytes)"
        )
        #expect(decoded == lines.count * rounds)
    }
}
