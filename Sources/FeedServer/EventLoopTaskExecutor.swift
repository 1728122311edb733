import NIOCore

/// Runs a task's code on one NIO event loop (a `TaskExecutor` for
/// `withTaskExecutorPreference` and `addTask(executorPreference:)`).
///
/// A feed connection's tasks (the reader that decodes lines and the writer of its
/// replies) run on the connection's own event loop: the bytes its channel reads resume the
/// reader without a hop to Swift's cooperative pool, and a reply written from there goes
/// to the channel without a hop back. At a steady 5,000 records a second those hops, two
/// thread wake-ups a record, were a large part of the server's CPU (docs/benchmarks.md).
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // From the loop itself this queues without a wake-up; from another thread it
        // wakes the loop, as any write to its channel would.
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
