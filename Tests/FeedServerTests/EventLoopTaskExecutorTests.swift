import NIOCore
import NIOPosix
import Testing

@testable import FeedServer

@Suite("A connection's tasks on its event loop")
struct EventLoopTaskExecutorTests {
    @Test("a task that prefers the executor runs on that event loop, before and after it suspends")
    func runsOnTheLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loop = group.next()
        let (before, afterYield, afterHop) = try await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) {
            let before = loop.inEventLoop
            await Task.yield()  // suspended and resumed through the executor
            let afterYield = loop.inEventLoop
            // Resumed from another thread (a future completed on the other loop).
            try await group.any().makeSucceededVoidFuture().hop(to: group.next()).get()
            return (before, afterYield, loop.inEventLoop)
        }
        #expect(before && afterYield && afterHop)
        // Without the preference the same code runs on Swift's pool, not the loop.
        #expect(!loop.inEventLoop)
        try await group.shutdownGracefully()
    }
}
