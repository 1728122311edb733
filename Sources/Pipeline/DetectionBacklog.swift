import FeedServer
import Synchronization

/// The batch a detection worker has taken from its mailbox and not yet handed on, shared
/// with the partition's `DecisionDeadline`: it outlives a restarted worker (so a lost
/// database connection loses no record), and a record waiting in it past the decision
/// budget is answered with the fallback while the worker is stuck.
public final class DetectionBacklog: Sendable {
    /// `input` still to decide, `results` decided (state already updated) and still to
    /// hand to the writer.
    let pending = Mutex<(input: [FeedRecord], results: [PipelineItem])>(([], []))

    /// An empty backlog.
    public init() {}

    /// Marks every record still to decide as taken by the worker, so the deadline leaves
    /// it alone from now on; returns them, with the fallbacks already sent.
    func claimInput() -> [FeedRecord] {
        pending.withLock { pending in
            for index in pending.input.indices where pending.input[index].fallback == nil {
                pending.input[index].claimed = true
            }
            return pending.input
        }
    }

    /// Undoes the claims of a worker that stopped before deciding (the next one claims again).
    func releaseClaims() {
        pending.withLock { pending in
            for index in pending.input.indices { pending.input[index].claimed = false }
        }
    }
}
