import Logging
import PostgresStore
import Secrets
import Supervision
import VigilCore
import WebhookDelivery

extension ServeConfiguration {
    /// Turns on webhook delivery: each new alert's outbox rows are written in the batch's
    /// transaction (transactional outbox), and a dispatcher under the pipeline supervisor
    /// delivers them. `allowLoopback` lets endpoints on 127.0.0.1 through the SSRF
    /// rules (demos and tests only). `keyring` opens the endpoints' sealed signing secrets.
    public mutating func enableWebhooks(
        allowLoopback: Bool = false, schedule: RetrySchedule = .standard,
        requestTimeout: Duration = .seconds(15), keyring: SecretKeyring? = nil
    ) {
        alertHook = { alerts, db in
            let entries = alerts.map { alert, transactionJSON in
                WebhookOutbox.Entry(
                    alertID: alert.id, severity: alert.severity.rawValue,
                    body: AlertEventBody.make(
                        alertID: alert.id, transactionID: alert.transactionID, accountID: alert.accountID, amount: alert.amount,
                        severity: alert.severity.rawValue, totalScore: alert.totalScore,
                        rules: alert.rules.map(AlertEventBody.RuleHit.init), rulesetVersion: alert.rulesetVersion,
                        createdAt: .now(), transactionJSON: transactionJSON,
                        decision: alert.decision?.outcome, degraded: alert.decision?.degraded, caseID: alert.caseID
                    ))
            }
            try WebhookOutbox.enqueue(entries, on: db)
        }
        var webhookDatabase = database
        webhookDatabase.applicationName = "vigil-webhooks"
        let dispatcher = WebhookDispatcher(
            configuration: .init(
                database: webhookDatabase, requestTimeout: requestTimeout, schedule: schedule,
                destinations: allowLoopback ? .allowingLoopback : .publicOnly, keyring: keyring
            ))
        extraPipelineChildren.append(ChildSpec(name: "webhooks", shutdownTimeout: requestTimeout + .seconds(5), service: dispatcher))
    }
}
