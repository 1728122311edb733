/// How serious a rule's hit is, lowest first: the one ordering every module uses
/// (the highest alert-mode hit names an alert; a webhook endpoint's minimum admits it).
public enum Severity: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case low, medium, high, critical

    /// Ordered as declared (`low < medium < high < critical`).
    public static func < (lhs: Severity, rhs: Severity) -> Bool {
        lhs.rank < rhs.rank
    }

    private var rank: Int {
        switch self {
        case .low: 0
        case .medium: 1
        case .high: 2
        case .critical: 3
        }
    }

    /// The names, lowest first, for messages that list the choices.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// Whether a hit raises an alert (`alert`) or is only recorded (`shadow`); `shadow`
/// orders below `alert` (it does less). Declared `alert` first: that is the order the
/// rules checker lists the choices in.
public enum RuleMode: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case alert, shadow

    /// `shadow < alert`.
    public static func < (lhs: RuleMode, rhs: RuleMode) -> Bool {
        lhs == .shadow && rhs == .alert
    }
}
