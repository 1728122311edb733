import VigilCore

/// A loaded ruleset: lists, windows and rules, checked and compiled, immutable and
/// `Sendable`, so one instance is shared by every evaluation worker and swapped
/// atomically on reload.
public struct CompiledRuleset: Sendable {
    /// Content hash of the rules and list files (`rs-` + 16 hex digits); record it with
    /// every decision so a decision can be reproduced.
    public let version: String
    /// Rules in declaration order; `rule.index` is the slot in `RuleOutcomes`.
    public let rules: [CompiledRule]
    /// Windows by slot; the pipeline maintains them with `WindowState`.
    public let windows: [WindowSpec]
    /// Lists by slot; `table` lists are filled at run time through `ListSnapshot`.
    public let lists: [ListSpec]
    /// Warnings found while loading (a ruleset with errors never exists).
    public let warnings: [Diagnostic]
    /// The text it was compiled from: each rules file by name, and each file list's
    /// members (`list NAME`, one per line, sorted), stored with the version so any two
    /// versions can be read and compared (`vigil rules history`, `vigil rules diff`).
    public let texts: [String: String]
    /// How hits become allow / review / block (the `policy` declaration's thresholds).
    public let policy: DecisionPolicy
    /// Every field a rule's condition or reason, or a window's key, value or filter reads.
    /// Enrichment may leave the others absent (they are filled for an alert's evidence,
    /// which shows every value); `.all` when not known.
    public let fieldsRead: FieldSet

    /// The rule with this id.
    public func rule(id: String) -> CompiledRule? { rules.first { $0.id == id } }

    /// The window with this name.
    public func window(named name: String) -> WindowSpec? { windows.first { $0.name == name } }

    /// Names of the `table` lists the pipeline must load from PostgreSQL.
    public var tableLists: [String] {
        lists.compactMap { if case .table(let t) = $0.source { t } else { nil } }
    }

    /// One closure per rule, checking `require` and mapping the condition to an outcome,
    /// kept apart from the rules' metadata so the hot loop touches nothing else.
    let runners: ContiguousArray<RunnerBox>
    /// The rules' conditions indexed as a whole (see `RuleIndex`).
    let index: RuleIndex
    /// Rules' explain traces, compiled on first use (see `Explain.trace`).
    let tracePlans = TracePlans()

    /// Assembles a ruleset (the loader is the only caller).
    init(
        version: String, rules: [CompiledRule], windows: [WindowSpec], lists: [ListSpec], warnings: [Diagnostic],
        policy: DecisionPolicy = DecisionPolicy(), texts: [String: String] = [:], fieldsRead: FieldSet = .all
    ) {
        self.policy = policy
        self.fieldsRead = fieldsRead
        self.version = version
        self.texts = texts
        self.rules = rules
        self.windows = windows
        self.lists = lists
        self.warnings = warnings
        self.runners = ContiguousArray(rules.map { RunnerBox(run: CompiledRuleset.runner($0)) })
        var statics = [Set<String>?](repeating: nil, count: lists.count)
        for list in lists where list.source.isStatic && list.slot >= 0 && list.slot < lists.count { statics[list.slot] = list.members }
        self.index = RuleIndex(rules: rules, statics: statics)
    }

    /// Decides every rule on one record and writes one outcome per rule into `outcomes`.
    ///
    /// Through the rule index: only the rules the record does not rule out are run (see
    /// `RuleIndex`); the others are `.noHit`, or `.notApplicable` when a `require`d value
    /// is absent. The outcomes are exactly those of `evaluateEachRule`. Allocation-free
    /// when `outcomes` is reused: closures read slots, no text is touched. Rules are
    /// isolated: an error in one is recorded as its outcome and the others run.
    /// `record.windows` must already hold the window values (see `WindowState.observe`).
    public func evaluate(_ record: EvaluationRecord, lists: ListSnapshot, into outcomes: inout RuleOutcomes) {
        outcomes.begin(count: runners.count, memos: index.sharedConditions)
        for group in index.requireGroups where !CompiledRuleset.satisfied(group, record) {
            for rule in group.rules where outcomes.claim(Int(rule)) { outcomes.record(.notApplicable, at: Int(rule)) }
        }
        index.conditions.withUnsafeBufferPointer { conditions in
            index.nodes.withUnsafeBufferPointer { nodes in
                guard !nodes.isEmpty else { return }
                IndexWalk(record: record, lists: lists, conditions: conditions, nodes: nodes).visit(0, &outcomes)
            }
        }
        outcomes.finish()
    }

    /// The straightforward evaluator: runs every rule's closure in declaration order. The
    /// reference `evaluate` is tested against (the differential test) and measured against.
    public func evaluateEachRule(_ record: EvaluationRecord, lists: ListSnapshot, into outcomes: inout RuleOutcomes) {
        outcomes.begin(count: runners.count, memos: index.sharedConditions)
        for i in runners.indices {
            let outcome = runners[i].run(record, lists)
            if case .noHit = outcome { continue }
            outcomes.record(outcome, at: i)
        }
        outcomes.finish()
    }

    static func satisfied(_ group: RequireGroup, _ record: EvaluationRecord) -> Bool {
        for slot in group.fields {
            if case .absent = record.fields[slot] { return false }
        }
        for slot in group.windows {
            if case .absent = record.window(slot) { return false }
        }
        return true
    }

    /// Convenience for tools and tests: evaluates into a fresh `RuleOutcomes`.
    public func evaluate(_ record: EvaluationRecord, lists: ListSnapshot = .empty) -> RuleOutcomes {
        var outcomes = RuleOutcomes()
        evaluate(record, lists: lists, into: &outcomes)
        return outcomes
    }

    static func runner(_ rule: CompiledRule) -> RuleRunner {
        let condition = rule.evaluate
        let failClosed = rule.onError == .alert
        let fields = rule.requiredFields.map(\.rawValue)
        let windows = rule.requiredWindows
        if fields.isEmpty && windows.isEmpty {
            return { r, l in CompiledRuleset.conclude(condition(r, l), failClosed) }
        }
        return { r, l in
            for slot in fields {
                if case .absent = r.fields[slot] { return .notApplicable }
            }
            for slot in windows {
                if case .absent = r.window(slot) { return .notApplicable }
            }
            return CompiledRuleset.conclude(condition(r, l), failClosed)
        }
    }

    @inline(__always)
    static func conclude(_ v: Value, _ failClosed: Bool) -> RuleOutcome {
        switch v {
        case .bool(true): .hit
        case .bool(false): .noHit
        case .error(let e): .error(e, failedClosed: failClosed)
        default: .error(.typeMismatch, failedClosed: failClosed)
        }
    }

    /// Renders a rule's reason for a record: call it only for hits (it builds a `String`).
    public func renderReason(of rule: CompiledRule, record: EvaluationRecord, lists: ListSnapshot = .empty) -> String {
        var text = ""
        for part in rule.reason {
            switch part {
            case .text(let t): text += t
            case .value(let eval, let type): text += CompiledRuleset.display(eval(record, lists), type)
            }
        }
        return text
    }

    /// A value as an analyst reads it: money with two decimals, strings without quotes.
    public static func display(_ v: Value, _ type: ValueType) -> String {
        switch v {
        case .decimal(let d) where type.base == .money: d.formatted(fractionDigits: 2)
        case .string(let s): s
        case .absent, .error(.absentField), .error(.absentWindow): "missing"
        case .error: "error"
        default: v.description
        }
    }
}

/// Runs one rule: `require` checks, then the condition.
typealias RuleRunner = @Sendable (EvaluationRecord, ListSnapshot) -> RuleOutcome

/// A runner in a struct, so the array holds it without reabstraction thunks.
struct RunnerBox: Sendable {
    let run: RuleRunner
}

/// What one rule concluded on one record.
public enum RuleOutcome: Sendable, Hashable {
    /// The condition was false.
    case noHit
    /// The condition was true.
    case hit
    /// A `require`d field or window was missing: the rule does not apply.
    case notApplicable
    /// Evaluation failed; `failedClosed` is true when the rule's `on_error alert` turned
    /// the error into a hit (record that with the alert).
    case error(EvaluationError, failedClosed: Bool)

    /// Whether the outcome counts as a hit (including a fail-closed error).
    public var isHit: Bool {
        switch self {
        case .hit: true
        case .error(_, let closed): closed
        default: false
        }
    }
}
