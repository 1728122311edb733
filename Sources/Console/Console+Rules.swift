import Access
import HTTPAPI
import Hummingbird
import VigilCore

extension Console {
    struct RulesView {
        struct Row {
            let id: String
            let alert: Int
            let shadow: Int
            let week: Int
            /// fraud ÷ (fraud + legitimate) of the last 7 days' alerts, "–" until one is judged.
            let precision: String
            let chart: String
            /// Precision per day over 30 days; nil when no alert of the rule was disposed then.
            let precisionChart: String?
        }
        struct VersionView {
            let name: String
            let liveAt: String
            let how: String
            let author: String
            let message: String?
        }
        struct DiffLine {
            let kind: String
            let text: String
        }
        struct DiffView {
            let from: String
            let to: String
            let lines: [DiffLine]
        }
        let canReload: Bool
        let csrf: String
        let flash: String?
        let version: VersionView?
        let rules: [Row]
        let diff: DiffView?
        let diffNote: String
        /// Open four-eyes proposals with their backtests.
        let proposals: [ProposalRow]
        let hasProposals: Bool
        /// How many days the precision chart covers.
        let days = RuleStats.days
    }

    /// `GET /console/rules` (and the page after a reload, with its outcome).
    func rulesPage(_ request: Request, context: APIRequestContext, flash: String?) async throws -> Response {
        let identity = try context.signedIn
        let stats = try await access.withConnection { try await RuleStats.load(on: $0) }
        let proposals = try await proposalRows(for: identity)
        let view = RulesView(
            canReload: identity.role >= .admin, csrf: csrf(request) ?? "", flash: flash,
            version: stats.version.map {
                .init(name: $0.name, liveAt: RFC3339.format($0.liveAt), how: $0.how, author: $0.author, message: $0.message)
            },
            rules: stats.rules.map { rule in
                let week = rule.lastWeek
                return .init(
                    id: rule.id, alert: rule.alert, shadow: rule.shadow, week: rule.week,
                    precision: week.judged == 0 ? "–" : "\(PrecisionChart.percent(week.fraud, of: week.judged))% of \(week.judged)",
                    chart: HitChart.svg(alert: rule.alertByHour, shadow: rule.shadowByHour, label: "hits of \(rule.id) per hour, last 24 hours"),
                    precisionChart: rule.precisionByDay.allSatisfy { $0 == nil }
                        ? nil
                        : PrecisionChart.svg(
                            days: rule.precisionByDay,
                            label: "precision of \(rule.id) per day of the alert (UTC), last \(RuleStats.days) days"))
            },
            diff: stats.diff.map { diff in
                .init(
                    from: diff.from, to: diff.to,
                    lines: diff.text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                        let kind =
                            line.hasPrefix("+++") || line.hasPrefix("---") || line.hasPrefix("@@")
                            ? "head" : line.hasPrefix("+") ? "add" : line.hasPrefix("-") ? "del" : "ctx"
                        return .init(kind: kind, text: String(line))
                    })
            }, diffNote: stats.diffNote, proposals: proposals, hasProposals: !proposals.isEmpty)
        return Pages.page("rules", title: "Rules", view: view, identity: identity, csrf: csrf(request))
    }
}
