import Synchronization

/// Whether a connection's unfinished line timed out, and its length: set by the
/// watchdog on the event loop, read by the connection's task once reading has ended.
final class LineTimeout: Sendable {
    private let bytes = Atomic<Int>(-1)

    func record(bytes received: Int) { bytes.store(received, ordering: .releasing) }

    /// The unfinished line's length in bytes if it timed out, else `nil`.
    var receivedBytes: Int? {
        let value = bytes.load(ordering: .acquiring)
        return value < 0 ? nil : value
    }
}
