import Foundation
import Synchronization
import VigilCore

/// Publishes committed alerts to live in-process consumers: the `/alerts/stream`
/// server-sent-events endpoint and anything else that subscribes.
///
/// Best effort by design: a consumer that falls more than `bufferSize` events behind
/// loses the oldest (the durable path to downstream systems is the webhook outbox).
public final class AlertBroadcaster: Sendable {
    private let subscribers = Mutex<[UUID: AsyncStream<CommittedAlert>.Continuation]>([:])
    private let bufferSize: Int

    /// Creates a broadcaster keeping up to `bufferSize` unread alerts per subscriber.
    public init(bufferSize: Int = 1024) {
        self.bufferSize = bufferSize
    }

    /// A stream of alerts committed from now on; ends when the caller stops iterating.
    public func subscribe() -> AsyncStream<CommittedAlert> {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: CommittedAlert.self, bufferingPolicy: .bufferingNewest(bufferSize))
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    /// Sends alerts to every subscriber.
    public func publish(_ alerts: [CommittedAlert]) {
        guard !alerts.isEmpty else { return }
        let targets = subscribers.withLock { Array($0.values) }
        for continuation in targets {
            for alert in alerts { continuation.yield(alert) }
        }
    }

    /// Ends every subscription (shutdown).
    public func finishAll() {
        let targets = subscribers.withLock { s in defer { s = [:] }; return Array(s.values) }
        for continuation in targets { continuation.finish() }
    }

    /// Number of live subscribers.
    public var subscriberCount: Int { subscribers.withLock { $0.count } }
}

extension CommittedAlert {
    /// The alert as one server-sent event.
    var serverSentEvent: String {
        let rules = "[" + rules.map { "{\"rule\":\(JSONText.quoted($0.ruleID)),\"score\":\($0.score),\"reason\":\(JSONText.quoted($0.reason))}" }.joined(separator: ",") + "]"
        let data = "{\"alert_id\":\(id),\"transaction_id\":\(JSONText.quoted(transactionID)),\"account_id\":\(JSONText.quoted(accountID)),"
            + "\"amount\":\(JSONText.quoted(amount.decimalString)),\"currency\":\(JSONText.quoted(amount.currency.code)),"
            + "\"severity\":\(JSONText.quoted(severity.rawValue)),\"total_score\":\(totalScore),\"rules\":\(rules),"
            + "\"ruleset_version\":\(JSONText.quoted(rulesetVersion))}"
        return "event: alert.created\nid: \(id)\ndata: \(data)\n\n"
    }
}
