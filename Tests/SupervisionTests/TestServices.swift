import Logging
import ServiceLifecycle
@testable import Supervision

/// Throws on its first `failures` runs, then runs until graceful shutdown or cancellation.
/// Records "start NAME" and "stop NAME" (the latter only for a run that was stopped).
struct FlakyService: Service {
    let name: String
    var failures = 0
    var finishNormally = false
    var readyAfter: Duration?
    let recorder: Recorder
    let runs = Locked(0)

    func run() async throws {
        let attempt = self.runs.modify { runs in
            runs += 1
            return runs
        }
        self.recorder.record("start \(self.name)")
        if attempt <= self.failures { throw TestError(message: "\(self.name) boom \(attempt)") }
        if self.finishNormally { return }
        if let readyAfter = self.readyAfter {
            try await Task.sleep(for: readyAfter)
            self.recorder.record("ready \(self.name)")
        }
        Supervisor.markReady()
        try? await gracefulShutdown()  // returns on graceful shutdown, throws on cancellation
        self.recorder.record("stop \(self.name)")
    }
}

/// Ignores both graceful shutdown and cancellation until `gate` is raised.
struct StuckService: Service {
    let gate: OneShotSignal
    let recorder: Recorder

    func run() async throws {
        self.recorder.record("start stuck")
        let gate = self.gate
        // A detached task is not cancelled with us, and awaiting its value ignores cancellation.
        _ = await Task.detached { await gate.wait() }.value
        self.recorder.record("stop stuck")
    }
}

/// Captures log messages with their metadata.
struct CapturingLogHandler: LogHandler {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    let entries: Locked<[Entry]>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = self.metadata
        for (key, value) in event.metadata ?? [:] { merged[key] = value }
        let entry = Entry(level: event.level, message: "\(event.message)", metadata: merged)
        self.entries.update { $0.append(entry) }
    }
}

func capturingLogger() -> (Logger, Locked<[CapturingLogHandler.Entry]>) {
    let entries = Locked<[CapturingLogHandler.Entry]>([])
    return (Logger(label: "test", factory: { _ in CapturingLogHandler(entries: entries) }), entries)
}

func fastConfiguration(
    _ name: String,
    strategy: SupervisionStrategy = .oneForOne,
    maxRestarts: Int = 3
) -> SupervisorConfiguration {
    SupervisorConfiguration(
        name: name,
        strategy: strategy,
        intensity: .init(maxRestarts: maxRestarts, period: .seconds(5)),
        backoff: .init(base: .milliseconds(1), maximum: .milliseconds(10), jitter: 0.5),
        cancellationGracePeriod: .milliseconds(100),
        jitterSource: { 0.5 }
    )
}
