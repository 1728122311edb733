import Backtest
import Foundation

/// The terminal rendering of a backtest report.
enum BacktestText {
    static func render(_ r: BacktestReport) -> String {
        var out: [String] = []
        let against = r.baseline == "live" ? "the live run (stored hits)" : "ruleset \(r.baseline)"
        out.append("backtest of ruleset \(r.candidateVersion) (\(r.candidateRules) rules) against \(against)")
        out.append("period \(r.from) to \(r.to) (event time)")
        if r.transactions == 0 {
            out.append("no stored transactions in this period: nothing to compare")
            return out.joined(separator: "\n")
        }
        out.append(
            "\(r.transactions) transactions replayed after a warm-up of \(r.warmupTransactions) (windows and profiles rebuilt from them)")
        if let since = r.referenceRecordedSince {
            out.append("reference data as of each arrival: \(r.referenceChanges) change(s) applied; history recorded since \(since)")
        } else {
            out.append("reference data: no change recorded, today's tables used throughout")
        }
        out.append("")
        let labeled = r.labeledFraud + r.labeledLegitimate > 0
        let header = ["rule", "mode", "hits", "baseline", "added", "removed"] + (labeled ? ["on fraud", "on legit"] : [])
        var rows = [header]
        for f in r.rules {
            let name = f.inCandidate ? f.rule : "\(f.rule) (baseline only)"
            rows.append(
                [name, f.mode.rawValue, "\(f.hits)", "\(f.baselineHits)", "+\(f.added)", "-\(f.removed)"]
                    + (labeled ? ["\(f.fraudHits)", "\(f.legitimateHits)"] : []))
        }
        let widths = header.indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
        for row in rows {
            out.append(
                row.enumerated().map { i, cell in
                    i == 0 || i == 1 ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) : pad(cell, widths[i])
                }
                .joined(separator: "  "))
        }
        out.append("")
        out.append("alerts: \(r.alerts) (baseline \(r.baselineAlerts)): +\(r.alertsAdded) added, -\(r.alertsRemoved) removed")
        if labeled {
            let c = r.candidateLabels
            let b = r.baselineLabels
            out.append(
                "against dispositions (\(r.labeledFraud) fraud, \(r.labeledLegitimate) legitimate): fraud caught \(c.fraudCaught) "
                    + "(baseline \(b.fraudCaught)), missed \(c.fraudMissed) (baseline \(b.fraudMissed)), known false positives raised "
                    + "\(c.falsePositivesRaised) (baseline \(b.falsePositivesRaised))")
        } else {
            out.append("against dispositions: none in this period (close cases with 'vigil cases close' or the API to get them)")
        }
        if !r.accountsMostAffected.isEmpty {
            out.append(
                "accounts most affected: "
                    + r.accountsMostAffected.map { "\($0.account) +\($0.alertsAdded)/-\($0.alertsRemoved)" }.joined(separator: ", "))
        }
        out.append(String(format: "replayed in %.2f s (%.0f transactions/s, warm-up included)", r.seconds, r.transactionsPerSecond))
        return out.joined(separator: "\n")
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
