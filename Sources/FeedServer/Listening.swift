import NIOCore
import Synchronization

/// A one-time "the listener is bound at this address" signal others can await.
final class Listening: Sendable {
    private struct State {
        var address: SocketAddress??
        var waiters: [CheckedContinuation<SocketAddress?, Never>] = []
    }
    private let state = Mutex(State())

    func set(_ address: SocketAddress?) {
        let waiters = state.withLock { s in
            s.address = .some(address)
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume(returning: address) }
    }

    func wait() async -> SocketAddress? {
        await withCheckedContinuation { continuation in
            let known: SocketAddress?? = state.withLock { s in
                if let address = s.address { return .some(address) }
                s.waiters.append(continuation)
                return nil
            }
            if let known { continuation.resume(returning: known) }
        }
    }
}
