import Access
import HTTPAPI
import Hummingbird
import VigilCore

extension Console {
    struct Choice {
        let value: String
        let selected: Bool
    }

    struct QueueRow {
        let id: Int64
        let rank: Int
        let severity: String
        let score: Int
        let transactionID: String
        let accountID: String
        let amount: String
        let rules: String
        let raised: String
    }

    struct QueueView {
        let severities: [Choice]
        let rules: [Choice]
        let filtered: Bool
        let statuses: [Choice]
        let assignee: String
        let severity: String
        let rule: String
        let live: Bool
        let liveAttr: String
        let fullAttr: String
        let alerts: [QueueRow]
        let hasAlerts: Bool
        let next: String?
        let newest: String?
    }

    /// `GET /console`: the queue, filtered by `severity` and `rule`, after `after` (a cursor).
    func queuePage(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.signedIn
        let query = FormFields(request.uri.query ?? "")
        var filter = AlertQueue.Filter()
        if let text = query.nonEmpty("severity") {
            guard let severity = Severity(rawValue: text) else {
                throw ConsoleError(.badRequest, "Unknown severity", "There is no severity '\(text)'; choose one of \(Severity.names) in the filter.")
            }
            filter.severity = severity
        }
        filter.rule = query.nonEmpty("rule")
        if let status = query.nonEmpty("status") {
            guard ["open", "in_review", "closed"].contains(status) else {
                throw ConsoleError(.badRequest, "Unknown status", "There is no case status '\(status)'; choose open, in_review or closed.")
            }
            filter.status = status
        }
        filter.assignee = query.nonEmpty("assignee")
        var cursor: AlertQueue.Cursor?
        if let text = query.nonEmpty("after") {
            guard let parsed = AlertQueue.Cursor(text) else {
                throw ConsoleError(.badRequest, "Bad page link", "The page position '\(text)' is not one the queue made; start again from /console.")
            }
            cursor = parsed
        }
        let (page, ruleIDs) = try await access.withConnection { db in
            (try await AlertQueue.page(filter, after: cursor, on: db), try await AlertQueue.recentRules(on: db))
        }
        let filterQuery = [
            filter.severity.map { "severity=\($0.rawValue)" }, filter.rule.map { "rule=\(percentEncoded($0))" },
            filter.status.map { "status=\($0)" }, filter.assignee.map { "assignee=\(percentEncoded($0))" },
        ].compactMap { $0 }
        let next = page.more ? page.rows.last.map { "/console?" + (filterQuery + ["after=\($0.rank).\($0.id)"]).joined(separator: "&") } : nil
        let newest = cursor == nil ? nil : "/console" + (filterQuery.isEmpty ? "" : "?" + filterQuery.joined(separator: "&"))
        var rules = ruleIDs
        if let rule = filter.rule, !rules.contains(rule) { rules.insert(rule, at: 0) }
        let view = QueueView(
            severities: Severity.allCases.reversed().map { Choice(value: $0.rawValue, selected: $0 == filter.severity) },
            rules: rules.map { Choice(value: $0, selected: $0 == filter.rule) }, filtered: !filter.isEmpty,
            statuses: ["open", "in_review", "closed"].map { Choice(value: $0, selected: $0 == filter.status) },
            assignee: filter.assignee ?? "",
            severity: filter.severity?.rawValue ?? "", rule: filter.rule ?? "", live: cursor == nil,
            // New alerts open (or join) unassigned cases mostly: a page filtered otherwise is not fed live.
            liveAttr: cursor == nil && (filter.status ?? "open") == "open" && filter.assignee == nil ? "true" : "false",
            fullAttr: page.more ? "true" : "false",
            alerts: page.rows.map { row in
                QueueRow(
                    id: row.id, rank: row.rank, severity: row.severity, score: row.score, transactionID: row.transactionID, accountID: row.accountID,
                    amount: MoneyText.format(minorUnits: row.amountMinor, currency: row.currency), rules: row.rules.joined(separator: ", "),
                    raised: RFC3339.format(row.createdAt))
            }, hasAlerts: !page.rows.isEmpty, next: next, newest: newest)
        return Pages.page("queue", title: "Queue", view: view, identity: identity, csrf: csrf(request))
    }

    struct AlertView {
        struct Summary {
            let id: Int64
            let severity: String
            let score: Int
            let decision: String?
            let ruleset: String
            let raised: String
            let accountID: String
        }
        struct Fact {
            let label: String
            let value: String
            let time: Bool
        }
        struct Hit {
            let rule: String
            let mode: String
            let severity: String
            let score: Int
            let reason: String
            let onError: Bool
        }
        struct Entry {
            let id: String
            let at: String
            let amount: String
            let channel: String
            let merchant: String?
            let country: String?
            let alertID: Int64?
            let alertSeverity: String?
            let current: Bool
            let alerted: Bool
        }
        let alert: Summary
        let facts: [Fact]
        let hits: [Hit]
        let timeline: [Entry]
        /// Analysts and admins see the case actions; viewers do not.
        let canAct: Bool
        /// The alert's case and the stored explain traces (nil for an alert without a case).
        let casePanel: CasePanel?
        /// Whether the case still takes changes (not closed), for the action forms.
        let caseOpen: Bool
        /// The session's CSRF token, for the action forms.
        let csrf: String
        /// What the last action said (a refusal), shown above the forms.
        let flash: String?
    }

    /// `GET /console/alerts/{id}`.
    func alertPage(
        _ request: Request, context: APIRequestContext, flash: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let identity = try context.signedIn
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text), id > 0 else {
            throw ConsoleError(.badRequest, "Bad alert id", "'\(text)' is not an alert id; alert ids are the numbers the queue shows (#123).")
        }
        guard
            let (detail, casePanel) = try await access.withConnection({ db -> (AlertDetail, CasePanel?)? in
                guard let detail = try await AlertDetail.load(id: id, on: db) else { return nil }
                return (detail, try await CasePanel.load(alertID: id, on: db))
            })
        else {
            throw ConsoleError(.notFound, "No such alert", "There is no alert #\(id). It may be in another database; go back to the queue.")
        }
        let view = AlertView(
            alert: .init(
                id: detail.id, severity: detail.severity, score: detail.score, decision: detail.decision, ruleset: detail.rulesetVersion,
                raised: RFC3339.format(detail.createdAt), accountID: detail.accountID),
            facts: detail.facts.map { .init(label: $0.label, value: $0.value, time: $0.isTime) },
            hits: detail.hits.map {
                .init(rule: $0.rule, mode: $0.mode, severity: $0.severity, score: $0.score, reason: $0.reason, onError: $0.onError)
            },
            timeline: detail.timeline.map { entry in
                .init(
                    id: entry.id, at: RFC3339.format(entry.at), amount: MoneyText.format(minorUnits: entry.amountMinor, currency: entry.currency),
                    channel: entry.channel, merchant: entry.merchant, country: entry.country, alertID: entry.alertID,
                    alertSeverity: entry.alertSeverity, current: entry.id == detail.transactionID, alerted: entry.alertID != nil)
            }, canAct: identity.role >= .analyst, casePanel: casePanel, caseOpen: casePanel.map { $0.status != "closed" } ?? false,
            csrf: csrf(request) ?? "", flash: flash)
        return Pages.page("alert", title: "Alert #\(id)", view: view, identity: identity, csrf: csrf(request), status: status)
    }

    /// Percent-encodes a filter value for a link.
    func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? ""
    }
}
