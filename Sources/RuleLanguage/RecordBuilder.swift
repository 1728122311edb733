import Foundation
import VigilCore

/// Builds evaluation records from JSON objects keyed by field name, for rule tests and
/// `vigil rules explain --transaction` (never on the pipeline's hot path).
///
/// Values: strings for string fields, decimal strings or numbers for money and decimals
/// (`"125.40"`), integers, booleans, durations as `"30d"`, timestamps as RFC 3339 or
/// relative to a start (`"+5m"`, `"-2h"`), `null` for absent.
public struct RecordBuilder: Sendable {
    /// The instant relative times are measured from.
    public var start: Timestamp

    /// Creates a builder with relative times measured from `start`.
    public init(start: Timestamp) {
        self.start = start
    }

    /// Parses a duration such as `10m`, `-2h` or `+30d`; nil when malformed.
    public static func parseDuration(_ text: String) -> Int64? {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        var sign: Int64 = 1
        if body.first == "+" {
            body = body.dropFirst()
        } else if body.first == "-" {
            sign = -1
            body = body.dropFirst()
        }
        var lexer = Lexer(text: String(body), file: "")
        let tokens = lexer.tokenize()
        guard lexer.diagnostics.isEmpty, tokens.count == 2 else { return nil }
        switch tokens[0].kind {
        case .duration(let d): return d * sign
        case .integer(0): return 0
        default: return nil
        }
    }

    /// Fills `record` from `object`; returns an error message per key that could not be used.
    /// `timestamp` may be relative; `at` is a synonym for it.
    public func fill(_ record: inout EvaluationRecord, from object: [String: Any]) -> [String] {
        var problems: [String] = []
        for (key, raw) in object.sorted(by: { $0.key < $1.key }) {
            let name = key == "at" ? "timestamp" : key
            guard let field = Field.named(name) else {
                let help = Suggest.closest(to: name, in: Field.allCases.map(\.name)).map { " (did you mean `\($0)`?)" } ?? ""
                problems.append("unknown field `\(key)`\(help)")
                continue
            }
            if raw is NSNull {
                record[field] = .absent
                continue
            }
            if let v = value(field, raw) {
                record[field] = v
            } else {
                problems.append("`\(key)`: cannot read \(raw) as \(field.type.base.rawValue)")
            }
        }
        deriveDefaults(&record)
        return problems
    }

    /// Fields a test need not spell out: hour and weekday from the time, `amount_base`
    /// and `base_currency` from `amount` when the transaction is in the base currency.
    public func deriveDefaults(_ record: inout EvaluationRecord) {
        if case .timestamp(let t) = record[.timestamp] {
            let (hour, weekday) = EvaluationRecord.hourAndWeekday(Timestamp(microsecondsSinceEpoch: t))
            if case .absent = record[.hourOfDay] { record[.hourOfDay] = .int(hour) }
            if case .absent = record[.dayOfWeek] { record[.dayOfWeek] = .int(weekday) }
        }
        if case .absent = record[.baseCurrency], case .string = record[.currency] { record[.baseCurrency] = record[.currency] }
        if case .absent = record[.amountBase] { record[.amountBase] = record[.amount] }
        if case .absent = record[.profileCount] { record[.profileCount] = .int(0) }
        if case .absent = record[.profileChannelCount] { record[.profileChannelCount] = .int(0) }
        for count in [Field.cardCount, .deviceCount, .merchantCount, .cardReversals, .deviceReversals, .merchantReversals] {
            if case .absent = record[count] { record[count] = .int(0) }
        }
        for rate in [Field.profileHourlyRate, .profileDailyRate, .cardHourlyRate, .deviceHourlyRate, .merchantHourlyRate] {
            if case .absent = record[rate] { record[rate] = .decimal(.zero) }
        }
        for flag in [Field.isNewDevice, .isNewCountry, .isNewCard, .isNewMerchant, .isLate] {
            if case .absent = record[flag] { record[flag] = .bool(false) }
        }
    }

    func value(_ field: Field, _ raw: Any) -> Value? {
        switch field.type.base {
        case .string:
            return (raw as? String).map(Value.string)
        case .money, .decimal:
            if let s = raw as? String { return DecimalValue(parsing: s).map(Value.decimal) }
            if let n = raw as? NSNumber, !RecordBuilder.isJSONBool(n) { return DecimalValue(parsing: n.stringValue).map(Value.decimal) }
            return nil
        case .int:
            if let n = raw as? NSNumber, !RecordBuilder.isJSONBool(n), let i = Int64(n.stringValue) { return .int(i) }
            return nil
        case .bool:
            if let n = raw as? NSNumber, RecordBuilder.isJSONBool(n) { return .bool(n.boolValue) }
            return nil
        case .duration:
            return (raw as? String).flatMap(RecordBuilder.parseDuration).map(Value.duration)
        case .timestamp:
            guard let s = raw as? String else { return nil }
            if s.hasPrefix("+") || s.hasPrefix("-") {
                return RecordBuilder.parseDuration(s).map { .timestamp(start.microsecondsSinceEpoch &+ $0) }
            }
            return RFC3339.parse(s).map { .timestamp($0.microsecondsSinceEpoch) }
        case .stringSet:
            return nil
        }
    }
}

extension RecordBuilder {
    /// Whether a number JSONSerialization produced was a JSON `true`/`false`: on Linux
    /// `0 is Bool` and `1 is Bool` hold for plain numbers, so ask the number's type.
    static func isJSONBool(_ n: NSNumber) -> Bool {
        String(cString: n.objCType) == "c" || type(of: n) == type(of: NSNumber(value: true))
    }
}
