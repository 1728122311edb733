import ArgumentParser
import Foundation
import PostgresStore
import VigilCore

extension RulesCommand {
    struct Compare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare shadow rules with the live alerts: hits, overlap, and the alerts promoting each would add.",
            discussion: """
                Over transactions received in [--since, --until). A shadow rule that hits many \
                transactions with no live alert would add that many alerts if promoted; one that \
                only overlaps adds nothing. Connects with DATABASE_URL or the PG* variables.
                """)

        @Option(help: "Start of the period (RFC 3339, by arrival time).") var since: String
        @Option(help: "End of the period, exclusive (RFC 3339); default: now.") var until: String?
        @Flag(help: "Print the report as JSON.") var json = false

        func run() async throws {
            let start = try BacktestCommand.time(since, "since")
            let end = try until.map { try BacktestCommand.time($0, "until") } ?? .now()
            let report = try await RulesCommand.withDatabase("compare") { db in try await db.shadowComparison(since: start, until: end) }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
                return
            }
            print(
                "\(report.transactions) transactions received from \(RFC3339.format(start)) to \(RFC3339.format(end)), \(report.alerts) live alerts")
            if report.rules.isEmpty {
                print("no shadow rule hit in this period")
                return
            }
            print("shadow rule                 hits  with a live alert  would add  disposed  fraud  precision")
            for r in report.rules {
                let name = r.rule.padding(toLength: max(26, r.rule.count), withPad: " ", startingAt: 0)
                let precision = r.precision.map { String(format: "%.2f", $0) } ?? "-"
                print(
                    "\(name)  \(pad(r.hits, 4))  \(pad(r.overlapWithAlerts, 17))  \(pad(r.wouldAdd, 9))  \(pad(r.disposed, 8))  "
                        + "\(pad(r.fraud, 5))  \(String(repeating: " ", count: max(0, 9 - precision.count)) + precision)")
            }
            if report.rules.allSatisfy({ $0.disposed == 0 }) {
                print("precision: none of these hits' live alerts is disposed yet (close cases with 'vigil cases close' or the API)")
            }
        }

        private func pad(_ n: Int, _ width: Int) -> String {
            let text = "\(n)"
            return String(repeating: " ", count: max(0, width - text.count)) + text
        }
    }
}
