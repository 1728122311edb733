import Logging
import Pipeline
import VigilCore

extension ServeCommand {
    /// `--decision-budget` and `--decision-fallback` as settings. A budget needs a
    /// fallback chosen by the operator: failing open or closed is theirs to decide.
    static func decisionSettings(budget budgetText: String?, fallback fallbackText: String?) throws -> DecisionSettings {
        var settings = DecisionSettings()
        if let fallbackText {
            guard let fallback = DecisionOutcome(rawValue: fallbackText) else {
                throw CleanExit.failure(
                    "vigil serve: decision-fallback \"\(fallbackText)\" is not one of \(DecisionOutcome.names) "
                        + "(allow fails open, review and block fail closed)")
            }
            settings.fallback = fallback
        }
        guard let budgetText else { return settings }
        guard let budget = parseDuration(budgetText), budget > .zero, budget <= .seconds(60) else {
            throw CleanExit.failure(
                "vigil serve: decision-budget \"\(budgetText)\" is not a duration from 1ms to 60s; write e.g. 50ms or 0.5s")
        }
        guard fallbackText != nil else {
            throw CleanExit.failure(
                "vigil serve: --decision-budget \(budgetText) needs --decision-fallback allow|review|block: say what a sender is "
                    + "told when detection cannot decide in time (allow fails open, review or block fail closed)")
        }
        settings.budget = budget
        return settings
    }

    /// Says at start how decisions are bounded, so the choice is never silent.
    static func logDecisions(_ settings: DecisionSettings, chosen: Bool, logger: Logger) {
        if let budget = settings.budget {
            logger.info(
                "decisions: budget \(budget.milliseconds) ms from arrival; past it the ack says \"\(settings.fallback.rawValue)\" with \"degraded\":\"budget\""
            )
        } else {
            let note = chosen ? "" : " (the default; set --decision-fallback to choose)"
            logger.info(
                "decisions: no budget (each ack waits for detection); a record stored without evaluation is answered \"\(settings.fallback.rawValue)\"\(note)"
            )
        }
    }

    private static func parseDuration(_ text: String) -> Duration? {
        if text.hasSuffix("ms"), let value = Double(text.dropLast(2)), value.isFinite {
            return .microseconds(Int64((value * 1000).rounded()))
        }
        if text.hasSuffix("s"), let value = Double(text.dropLast(1)), value.isFinite {
            return .microseconds(Int64((value * 1_000_000).rounded()))
        }
        return nil
    }
}

extension Duration {
    /// Whole milliseconds, for log lines.
    fileprivate var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

extension String {
    /// Nil for the empty string (an option's "not given").
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
