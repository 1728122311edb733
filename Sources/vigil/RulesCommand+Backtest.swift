import ArgumentParser
import Backtest
import Foundation
import PostgresStore
import RuleLanguage
import VigilCore

extension RulesCommand {
    struct BacktestCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backtest",
            abstract: "Replay stored transactions through candidate rules and compare with the live run or another ruleset.",
            discussion: """
                Replays, in event-time order, every stored transaction before --to: those before --from only \
                rebuild windows and profiles (the warm-up), those in [--from, --to) are counted. Reference data \
                and lists are as they were when each transaction arrived (recorded since migration 0016). \
                Reads only: nothing is written to any table, so an interrupted run leaves nothing behind. \
                Connects with DATABASE_URL or the PG* variables.
                """)

        @Argument(help: "The candidate ruleset: rules files or directories.") var paths: [String]
        @Option(help: "Start of the period (RFC 3339, by event time); default: the first stored transaction.") var from: String?
        @Option(help: "End of the period, exclusive (RFC 3339); default: after the last stored transaction.") var to: String?
        @Option(help: "Compare with `live` (the hits the pipeline stored) or a ruleset directory.") var baseline: String = "live"
        @Option(help: "The currency amount_base is in (as for serve; env VIGIL_BASE_CURRENCY).")
        var baseCurrency: String = ProcessInfo.processInfo.environment["VIGIL_BASE_CURRENCY"] ?? "EUR"
        @Option(help: "Seconds of lateness allowed (as for serve); only used for records the live run never judged.")
        var allowedLateness: Int = 300
        @Flag(help: "Print the report as JSON.") var json = false

        func run() async throws {
            let candidate = try RulesCommand.loadOrReport(paths)
            let against: BacktestBaseline = baseline == "live" ? .live : .ruleset(try RulesCommand.loadOrReport([baseline]))
            var options = BacktestOptions(baseCurrency: baseCurrency, allowedLateness: .seconds(allowedLateness))
            options.from = try from.map { try Self.time($0, "from") }
            options.to = try to.map { try Self.time($0, "to") }
            let bar = ProgressBar(enabled: !json && isatty(STDERR_FILENO) == 1)
            let report: BacktestReport
            do {
                report = try await Backtest.run(
                    candidate: candidate, baseline: against, options: options,
                    database: .fromEnvironment(applicationName: "vigil-backtest"), progress: { bar.show($0, of: $1) })
            } catch let error as BacktestError {
                bar.clear()
                throw CleanExit.failure("vigil rules backtest: \(error)")
            } catch let error as PostgresError {
                bar.clear()
                throw CleanExit.failure("vigil rules backtest: \(error)")
            }
            bar.clear()
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(BacktestText.render(report))
            }
        }

        static func time(_ text: String, _ option: String) throws -> Timestamp {
            guard let time = RFC3339.parse(text) else {
                throw CleanExit.failure("vigil rules backtest: --\(option) \(text) is not an RFC 3339 time (e.g. 2026-11-24T00:00:00Z)")
            }
            return time
        }
    }
}

/// A one-line progress bar on standard error, for a terminal only.
final class ProgressBar: Sendable {
    let enabled: Bool

    init(enabled: Bool) { self.enabled = enabled }

    func show(_ done: Int, of total: Int) {
        guard enabled, total > 0 else { return }
        let width = 30
        let filled = min(width, done * width / total)
        let line = "\r[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "] \(done)/\(total)"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
