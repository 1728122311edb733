/// How serious a diagnostic is: errors stop a ruleset from loading, warnings do not.
public enum DiagnosticSeverity: String, Sendable, Hashable, Codable {
    case error
    case warning
    case note
}

/// A position in a rules file: 1-based line and column (columns count Unicode scalars).
public struct SourceLocation: Sendable, Hashable, Codable, Comparable {
    /// 1-based line number.
    public var line: Int
    /// 1-based column number.
    public var column: Int

    /// Creates a location.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }
}

/// A span of source text in one file; `end` is exclusive and on the same line or later.
public struct SourceRange: Sendable, Hashable, Codable {
    /// The file path as given to the loader.
    public var file: String
    /// First character of the span.
    public var start: SourceLocation
    /// One past the last character of the span.
    public var end: SourceLocation

    /// Creates a range.
    public init(file: String, start: SourceLocation, end: SourceLocation) {
        self.file = file
        self.start = start
        self.end = end
    }

    /// The smallest range covering both.
    public func union(_ other: SourceRange) -> SourceRange {
        SourceRange(file: file, start: min(start, other.start), end: max(end, other.end))
    }
}

/// One problem found while loading rules: a value, never a thrown error, so that every
/// problem of every file can be reported at once (as swift-syntax's diagnostics are).
public struct Diagnostic: Sendable, Hashable, Codable {
    /// Stable identifier, e.g. `E0100` (unknown field); documented in docs/rules-language.md.
    public var code: String
    /// Error or warning.
    public var severity: DiagnosticSeverity
    /// Where the problem is.
    public var range: SourceRange
    /// What is wrong, in plain words.
    public var message: String
    /// How to fix it, e.g. "did you mean `amount`?"; nil when there is no suggestion.
    public var help: String?
    /// Extra context, e.g. where a duplicate was first declared.
    public var note: String?

    /// Creates a diagnostic.
    public init(
        _ code: DiagnosticCode, _ range: SourceRange, _ message: String,
        help: String? = nil, note: String? = nil
    ) {
        self.code = code.rawValue
        self.severity = code.severity
        self.range = range
        self.message = message
        self.help = help
        self.note = note
    }
}

/// Every diagnostic the rules compiler can emit. Codes are stable: editors and CI match on them.
public enum DiagnosticCode: String, Sendable, CaseIterable {
    // Lexical
    case unexpectedCharacter = "E0001"
    case unterminatedString = "E0002"
    case invalidNumber = "E0003"
    case invalidDuration = "E0004"
    case invalidEscape = "E0005"
    // Syntax
    case expectedToken = "E0010"
    case unknownDeclaration = "E0011"
    case unknownClause = "E0012"
    case duplicateClause = "E0013"
    case missingClause = "E0014"
    case tooDeep = "E0015"
    // Names
    case unknownField = "E0100"
    case unknownWindow = "E0101"
    case unknownList = "E0102"
    case unknownFunction = "E0103"
    case wrongArgumentCount = "E0104"
    case duplicateRule = "E0105"
    case duplicateWindow = "E0106"
    case duplicateList = "E0107"
    // Types
    case typeMismatch = "E0200"
    case unhandledOptional = "E0201"
    case conditionNotBool = "E0202"
    case invalidMoneyArithmetic = "E0203"
    case unknownEnumValue = "E0204"
    case notConstant = "E0205"
    case invalidRegex = "E0206"
    case invalidWindow = "E0207"
    // Rule attributes
    case invalidAttribute = "E0300"
    case listFileUnreadable = "E0301"
    case ioError = "E0302"
    // Decision policy
    case invalidPolicy = "E0400"
    case duplicatePolicy = "E0401"
    // Warnings
    case unusedList = "W0001"
    case unusedWindow = "W0002"
    case windowChanged = "W0003"
    case redundantPresenceCheck = "W0004"
    case emptyList = "W0005"
    case allowNeverDecides = "W0006"
    case thresholdUnreachable = "W0007"

    /// Codes starting with `W` are warnings; the rest are errors.
    public var severity: DiagnosticSeverity {
        rawValue.hasPrefix("W") ? .warning : .error
    }
}
