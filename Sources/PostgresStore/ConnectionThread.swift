import Foundation

/// A serial executor backed by one dedicated OS thread.
///
/// libpq's calls block. Running a connection's actor on its own thread keeps those
/// blocking calls off Swift's cooperative pool (which has one thread per core: two
/// blocked connections would stall every task in the process on this machine).
///
/// It is a task executor as well (SE-0417's executor that is both): a stage whose work is
/// mostly its connection's (the writer, a detection worker) runs its task here with
/// `withTaskExecutorPreference`, so each statement it sends is a call on the same thread,
/// not two thread wake-ups (there and back) per round trip.
///
/// `@unchecked Sendable`: every mutable field is read and written only while holding
/// `condition`'s lock.
final class ConnectionThread: SerialExecutor, TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false

    init(name: String) {
        let thread = Thread { [self] in
            // Named from the thread itself: on Linux, Foundation's `Thread.name` set before
            // `start()` did not reach the kernel, and `top -H` or perf showed the name of
            // whichever thread created it (a dispatch worker's).
            // (`/proc/thread-self/comm` is the thread's name; the kernel keeps 15 bytes.)
            try? Data(name.utf8.prefix(15)).write(to: URL(fileURLWithPath: "/proc/thread-self/comm"))
            self.loop()
        }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets the thread exit once the queued jobs have run. Call only when no further
    /// job can be enqueued (the owning actor is being deinitialized).
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        var batch: [UnownedJob] = []
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping {
                condition.wait()
            }
            if jobs.isEmpty && stopping {
                condition.unlock()
                return
            }
            swap(&batch, &jobs)
            condition.unlock()
            for job in batch {
                // The actor's jobs and those of a task that prefers this thread alike.
                job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
            }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
