import FeedServer
import Logging

extension VigilServer {
    /// The ISO 8583 listener and its reversal store, when `--iso8583-port` is set.
    static func iso8583Listener(
        _ configuration: ServeConfiguration, sink: IngestSink, health: PipelineHealth, detection: DetectionState, leadership: Leadership?
    ) -> (listener: FeedServer, reversals: ReversalWriter)? {
        guard let listenerConfiguration = configuration.iso8583 else { return nil }
        let reversals = ReversalWriter(database: configuration.database, health: health, detection: detection, leadership: leadership)
        let listener = FeedServer(configuration: listenerConfiguration, sink: sink, reversals: reversals, logger: Logger(label: "vigil.iso8583"))
        return (listener, reversals)
    }
}
