import Foundation
import Synchronization

/// Test-only fault injection: makes a stage throw a given number of times, so the
/// fault-tolerance suite can watch its supervisor restart it and, past the restart
/// intensity, escalate. Off unless configured; `vigil serve` reads it from
/// `VIGIL_TEST_FAULTS`, e.g. `writer=3,detect=2` (each stage throws that many times,
/// at its next batch) or `writer=always`; `detect-stall=1500` makes the next batch a
/// detection worker takes wait 1,500 ms before it is decided (once), as a stuck stage would.
public final class FaultInjection: Sendable {
    /// An injected failure.
    public struct InjectedFault: Error, CustomStringConvertible {
        public var stage: String
        public var description: String { "injected fault in stage \(stage) (VIGIL_TEST_FAULTS)" }
    }

    private let remaining: Mutex<[String: Int]>

    /// No faults.
    public static let none = FaultInjection(plan: [:])

    /// Faults per stage name (`Int.max` for always).
    public init(plan: [String: Int]) {
        remaining = Mutex(plan)
    }

    /// Parses `writer=3,detect=always`; `nil` when the text is malformed.
    public convenience init?(parsing text: String) {
        var plan: [String: Int] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, !pair[0].isEmpty else { return nil }
            if pair[1] == "always" { plan[pair[0]] = Int.max } else if let n = Int(pair[1]), n >= 0 { plan[pair[0]] = n } else { return nil }
        }
        self.init(plan: plan)
    }

    /// Throws if a fault is planned for `stage` (and counts it down).
    public func check(_ stage: String) throws {
        let fire = remaining.withLock { plan -> Bool in
            guard let n = plan[stage], n > 0 else { return false }
            if n != Int.max { plan[stage] = n - 1 }
            return true
        }
        if fire { throw InjectedFault(stage: stage) }
    }

    /// Waits as long as `<stage>-stall` says (milliseconds), once: a stage that is alive
    /// but not getting on with its work.
    public func stall(_ stage: String) async throws {
        let milliseconds = remaining.withLock { plan -> Int in
            let n = plan[stage + "-stall"] ?? 0
            if n > 0 { plan[stage + "-stall"] = 0 }
            return n
        }
        if milliseconds > 0 { try await Task.sleep(for: .milliseconds(milliseconds)) }
    }
}
