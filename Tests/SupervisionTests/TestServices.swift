import Logging
import ServiceLifecycle
import VigilTesting

@testable import Supervision

extension EventRecorder where Event == MockService.Event {
    /// The starts and stops only, as text ("start a", "stop a"), for checking their order.
    var startsAndStops: [String] {
        self.all.compactMap { event in
            switch event {
            case .started, .stopped: event.description
            default: nil
            }
        }
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
