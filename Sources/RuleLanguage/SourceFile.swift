/// A rules file's text kept with its path, so diagnostics can quote the offending line.
public struct SourceFile: Sendable, Hashable {
    /// The path as given by the caller (shown in diagnostics).
    public var path: String
    /// The whole file content.
    public var text: String
    /// The file split into lines (without terminators), computed once.
    public let lines: [Substring]

    /// Creates a source file from its path and text.
    public init(path: String, text: String) {
        self.path = path
        self.text = text
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
    }

    /// The text of a 1-based line, or an empty string when out of range.
    public func line(_ number: Int) -> Substring {
        guard number >= 1, number <= lines.count else { return "" }
        return lines[number - 1]
    }
}
