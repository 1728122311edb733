import Access
import Console
import HTTPAPI
import Hummingbird
import Logging
import NIOCore
import VigilCore

/// The routes `vigil serve` answers over HTTP, and the role each needs:
///
/// | route | role |
/// |---|---|
/// | `GET /healthz`, `GET /readyz` | none (probes) |
/// | `GET /metrics` | viewer, none with `--metrics-public` |
/// | `GET /alerts/stream` | viewer |
/// | `POST /admin/reload-rules` | admin (audited) |
/// | `POST /api/v1/iso20022` | analyst (a pacs.008 in, a pacs.002 out; docs/iso8583.md) |
/// | `/api/v1/rulesets/proposals...` | viewer to list, analyst to propose, admin to decide (``ProposalRoutes``) |
/// | `/console/...` | a console session (docs/console.md; see `Console.addRoutes`) |
struct OpsRoutes: Sendable {
    let supervisors: SupervisorsBox
    let health: PipelineHealth
    let probe: DatabaseProbe
    let feedTransport: String
    let metricsText: (@Sendable () -> String)?
    let metricsPublic: Bool
    let reloader: RulesReloader
    let alerts: AlertBroadcaster
    let access: AccessStore
    let iso20022: ISO20022Intake

    func add(to router: Router<APIRequestContext>, streams: StreamRegistry) {
        router.get("/healthz") { _, _ in
            // Alive: no supervisor has given up. A stage retrying an unreachable database
            // is alive (that is /readyz's business), so a liveness probe never kills a
            // process that is waiting out an outage.
            let liveness = PipelineHealth.liveness(supervisors.statuses())
            return Self.json(liveness.alive ? .ok : .serviceUnavailable, liveness.body)
        }
        router.get("/readyz") { _, _ in
            let readiness = await health.check(probe: probe)
            return Self.json(
                readiness.ready ? .ok : .serviceUnavailable,
                PipelineHealth.readyBody(readiness, extra: [("feed_transport", feedTransport)] + health.readyFields))
        }
        let metrics: @Sendable (Request, APIRequestContext) -> Response = { _, _ in
            Self.text(.ok, metricsText?() ?? "", contentType: "text/plain; version=0.0.4")
        }
        if metricsPublic {
            router.get("/metrics", use: metrics)
        } else {
            router.group(requiring: .viewer, access: access).get("/metrics", use: metrics)
        }
        router.group(requiring: .viewer, access: access).get("/alerts/stream") { request, context in
            try alerts.streamResponse(request, context: context, streams: streams)
        }
        let proposals = ProposalRoutes(reloader: reloader, access: access)
        router.group(requiring: .admin, access: access).post("/admin/reload-rules") { _, context in
            try await proposals.refuseReloadUnderFourEyes(by: context.actor)
            return await reload(by: context.actor, logger: context.logger)
        }
        proposals.add(to: router)
        // Credit transfers from a core-banking system: the body limit applies (413 past it).
        router.group(requiring: .analyst, access: access).post("/api/v1/iso20022") { request, context in
            // Already read and bounded by the body-limit middleware.
            var request = request
            let body = try await request.collectBody(upTo: .max)
            let caller = context.actor
            let peer = "\(caller.remoteAddress ?? "unknown") token:\(caller.name)"
            let answer = await iso20022.handle(body: Array(buffer: body), peer: peer)
            return Self.text(HTTPResponse.Status(code: answer.status), answer.body, contentType: answer.contentType)
        }
        // The investigator console: same server, same tokens, same alert stream and metrics.
        let consoleLogger = Logger(label: "vigil.console")
        Console(
            access: access,
            alertStream: { request, context in try alerts.streamResponse(request, context: context, streams: streams) },
            metricsText: metricsText,
            reloadRules: { actor in
                // Under four-eyes the console's button is refused like the endpoint and SIGHUP.
                do {
                    try await proposals.refuseReloadUnderFourEyes(by: actor)
                } catch {
                    return "refused: \(RulesReloader.fourEyesReason)"
                }
                return await reloadOutcome(by: actor, logger: consoleLogger).text
            }
        ).addRoutes(to: router)
    }

    /// Reloads the rules and records it in the audit log (whatever the outcome).
    private func reload(by actor: Actor, logger: Logger) async -> Response {
        let outcome = await reloadOutcome(by: actor, logger: logger)
        return Self.text(outcome.status, outcome.text)
    }

    /// Reloads the rules, records it in the audit log, and says what happened (for the
    /// endpoint and the console's button alike).
    private func reloadOutcome(by actor: Actor, logger: Logger) async -> (status: HTTPResponse.Status, text: String) {
        let outcome = await reloader.reload(author: actor.name)
        let response: (status: HTTPResponse.Status, text: String)
        let detail: String
        switch outcome {
        case .reloaded(let version, let rebuilt):
            detail = "{\"outcome\":\"reloaded\",\"version\":\(JSONText.quoted(version)),\"rebuilt_windows\":\(rebuilt.count)}"
            response = (.ok, "reloaded \(version)" + (rebuilt.isEmpty ? "" : "; rebuilt windows: \(rebuilt.joined(separator: ", "))") + "\n")
        case .unchanged(let version):
            detail = "{\"outcome\":\"unchanged\",\"version\":\(JSONText.quoted(version))}"
            response = (.ok, "unchanged \(version)\n")
        case .refused(let reason):
            detail = "{\"outcome\":\"refused\"}"
            response = (.unprocessableContent, "refused; the running ruleset stays\n\(reason)\n")
        }
        do {
            try await access.record("rules.reload", target: nil, detail: detail, by: actor)
        } catch {
            // The reload has happened; say loudly that its record is missing.
            logger.error("rule reload not written to the audit log", metadata: ["actor": "\(actor.name)", "error": "\(error)"])
        }
        return response
    }

    static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        text(status, body, contentType: "application/json")
    }

    static func text(_ status: HTTPResponse.Status, _ body: String, contentType: String = "text/plain") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
