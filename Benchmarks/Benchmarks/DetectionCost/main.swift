import Detection
import DetectionFixture
import Foundation

// The detection step over the 20,000-transaction workload, once, in one variant:
//   DetectionCost before   profiles only, with VIGIL_BEFORE_RULES (or Rules/)
//   DetectionCost after    profiles and the card, device and merchant histories, with Rules/
//   DetectionCost setup    only the loading both share (subtracted from each)
// Run under `valgrind --tool=callgrind` by scripts/detection-cost.sh, which turns the
// instruction counts into the ratio issue 16 bounds.
let variant = CommandLine.arguments.dropFirst().first ?? ""
guard ["before", "after", "setup"].contains(variant) else {
    FileHandle.standardError.write(Data("usage: DetectionCost before|after|setup (got \"\(variant)\")\n".utf8))
    exit(2)
}
guard let workload = DetectionWorkload.load() else { exit(1) }
switch variant {
case "before":
    print("hits", DetectionPass.run(workload.transactions, ruleset: workload.before, reference: workload.reference, history: nil))
case "after":
    print("hits", DetectionPass.run(workload.transactions, ruleset: workload.current, reference: workload.reference, history: SharedHistory()))
default:
    print("transactions", workload.transactions.count)
}
