import Detection
import FeedServer
import Foundation
import Logging
import PostgresStore
import RuleLanguage
import ServiceLifecycle
import Synchronization
import UnixSignals
import VigilCore

/// Reloads the rules on SIGHUP or `POST /admin/reload-rules`.
///
/// The new ruleset is compiled off to the side and its rule tests run; a ruleset that
/// does not compile, or whose tests fail, is refused with its diagnostics in the log
/// and the running one stays (`allowFailingTests` loads it anyway, loudly). Accepted,
/// it is swapped in between batches; windows whose definition changed are rebuilt from
/// the stored transactions, unchanged ones keep their state.
public final class RulesReloader: Sendable {
    /// What a reload did.
    public enum Outcome: Sendable, Equatable {
        case reloaded(version: String, rebuiltWindows: [String])
        case unchanged(version: String)
        case refused(reason: String)
    }

    let state: DetectionState
    private let rulesPath: String
    let database: PostgresConfiguration
    private let allowFailingTests: Bool
    let requireTests: Bool
    let logger: Logger
    /// One swap at a time: a reload that finds it taken is refused, an approval waits.
    let gate = ReloadGate()
    /// Four-eyes promotion (`--four-eyes`): rules go live only by an approved proposal, so
    /// reloads from the rules folder are refused.
    public let fourEyes: Bool

    /// Creates a reloader for the rules at `rulesPath`.
    public init(
        state: DetectionState, rulesPath: String, database: PostgresConfiguration,
        allowFailingTests: Bool = false, requireTests: Bool = false, fourEyes: Bool = false, logger: Logger = Logger(label: "vigil.rules")
    ) {
        self.fourEyes = fourEyes
        self.requireTests = requireTests
        self.state = state
        self.rulesPath = rulesPath
        self.database = database
        self.allowFailingTests = allowFailingTests
        self.logger = logger
    }

    /// Reloads now (one reload at a time; a second request meanwhile is refused).
    /// `author` (an API token's name; the operating-system user by default) and `message`
    /// are recorded with the version in `ruleset_activations`.
    public func reload(author: String = RulesReloader.systemUser, message: String? = nil) async -> Outcome {
        if fourEyes {
            logger.error("rules reload refused; the running ruleset stays", metadata: ["reason": "\(Self.fourEyesReason)"])
            return .refused(reason: Self.fourEyesReason)
        }
        guard gate.tryEnter() else { return .refused(reason: "a reload is already in progress") }
        defer { gate.leave() }
        let outcome = await attempt(RulesetActivation(author: author, how: "reload", message: message), from: rulesPath)
        switch outcome {
        case .reloaded(let version, let rebuilt):
            logger.notice("rules reloaded", metadata: ["version": "\(version)", "rebuilt_windows": "\(rebuilt.joined(separator: ","))"])
        case .unchanged(let version):
            logger.info("rules unchanged; nothing to reload", metadata: ["version": "\(version)"])
        case .refused(let reason):
            logger.error("rules reload refused; the running ruleset stays", metadata: ["reason": "\(reason)"])
        }
        return outcome
    }

    /// Compiles and tests the rules at `path` and swaps them in; the caller holds the gate.
    /// `expectedVersion` (an approved proposal's) refuses files that compile to another.
    func attempt(_ activation: RulesetActivation, from path: String, expectedVersion: String? = nil) async -> Outcome {
        let current = state.rules.ruleset
        // An approved proposal is self-contained: its lists come from its own files only.
        let loaded =
            expectedVersion == nil ? RulesetLoader.load(paths: [path], previous: current) : RulesetCandidate.load(path: path, previous: current)
        guard let ruleset = loaded.ruleset else {
            let text = loaded.diagnostics.map { $0.rendered(sources: loaded.sources) }.joined()
            return .refused(reason: "the rules do not compile:\n" + text)
        }
        if let expectedVersion, ruleset.version != expectedVersion {
            return .refused(
                reason: "the approved files compile to \(ruleset.version), not the approved \(expectedVersion) (was vigil upgraded?); "
                    + "propose them again")
        }
        if ruleset.version == current.version { return .unchanged(version: current.version) }
        let results = RuleTestRunner.run(ruleset: ruleset, files: RuleTestRunner.testFiles(in: [path]))
        let untested = RuleTestRunner.untested(ruleset, results: results)
        if requireTests && !untested.isEmpty {
            return .refused(
                reason: "rule(s) with no test case that expects them to hit: \(untested.joined(separator: ", ")); "
                    + "add cases to Rules/tests (see docs/rules-language.md, Rule tests) or start with --no-require-tests")
        }
        let failures = results.filter { !$0.passed }
        if !failures.isEmpty {
            let text = failures.map { "\($0.file) \($0.name): \($0.failures.joined(separator: "; "))" }.joined(separator: "\n")
            // An approval never goes live past failing tests: the reviewer approved passing ones.
            guard allowFailingTests && activation.how != "approval" else {
                return .refused(reason: "\(failures.count) rule test(s) fail:\n" + text)
            }
            logger.critical("LOADING A RULESET WHOSE TESTS FAIL (--allow-failing-rule-tests)", metadata: ["failures": "\(text)"])
        }
        let changed = ruleset.windows.filter { spec in !current.windows.contains { spec.keepsState(of: $0) } }
        var recent: [Transaction] = []
        do {
            recent = try await PostgresConnection.withConnection(database) { db in
                try await db.recordRulesetVersion(
                    ruleset.version, files: loaded.sources.keys.sorted(), ruleCount: ruleset.rules.count, texts: ruleset.texts,
                    activation: activation)
                guard let span = changed.map(\.duration).max(), span > 0 else { return [] }
                return try await DetectionStore.recentTransactions(from: db, span: .microseconds(span))
            }
        } catch {
            return .refused(reason: "cannot reach PostgreSQL to record the ruleset and rebuild its windows: \(error)")
        }
        let rebuilt = state.install(ruleset, replaying: recent)
        return .reloaded(version: ruleset.version, rebuiltWindows: rebuilt)
    }
}

/// Reloads the rules, and the TLS certificate and key of the feed and of the ISO 8583
/// listener (which serves the feed's files), on every SIGHUP.
public struct ReloadOnHangup: Service {
    let reloader: RulesReloader
    /// The listeners whose TLS files are read again.
    let listeners: [FeedServer]

    /// Creates the signal listener.
    public init(reloader: RulesReloader, feed: FeedServer? = nil, iso8583: FeedServer? = nil) {
        self.reloader = reloader
        self.listeners = [feed, iso8583].compactMap { $0 }
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        try await cancelWhenGracefulShutdown {
            for await _ in signals {
                _ = await reloader.reload()
                for listener in listeners { Self.reloadTLS(of: listener) }
            }
        }
    }

    /// New feed connections get the files' certificate and key; open ones keep theirs.
    /// Unusable files are logged and the running certificate stays.
    static func reloadTLS(of feed: FeedServer?) {
        guard let feed else { return }
        do {
            try feed.reloadTLS()
        } catch {
            Logger(label: "vigil.feed").error("feed TLS reload refused; the running certificate stays", metadata: ["error": "\(error.message)"])
        }
    }
}

extension RulesReloader {
    /// The operating-system user this process runs as: the author of a start or a SIGHUP reload.
    public static var systemUser: String {
        let environment = ProcessInfo.processInfo.environment
        return "os:" + (environment["USER"] ?? environment["LOGNAME"] ?? "uid \(getuid())")
    }

    /// Why a reload is refused under `--four-eyes`, and what to do instead.
    public static let fourEyesReason =
        "four-eyes promotion is on (--four-eyes): rules go live only through an approved proposal; "
        + "run 'vigil rules propose DIR -m MESSAGE', then an admin other than the proposer runs 'vigil rules approve ID' "
        + "(or POST /api/v1/rulesets/proposals and .../approve)"
}
