/// Human-readable rendering in the rustc/Elm style: header, location, quoted line, caret, help.
extension Diagnostic {
    /// Renders the diagnostic with the source line and a caret under the span.
    ///
    /// `sources` maps a file path to its content; without it only the header is printed.
    public func rendered(sources: [String: SourceFile]) -> String {
        var out = "\(severity.rawValue)[\(code)]: \(message)\n"
        out += "  --> \(range.file):\(range.start.line):\(range.start.column)\n"
        if let file = sources[range.file], range.start.line >= 1, range.start.line <= file.lines.count {
            let lineText = String(file.line(range.start.line))
            let gutter = String(range.start.line)
            let pad = String(repeating: " ", count: gutter.count)
            out += "\(pad) |\n"
            out += "\(gutter) | \(lineText)\n"
            let startCol = max(1, range.start.column)
            let lineLength = lineText.unicodeScalars.count
            let endCol =
                range.end.line == range.start.line
                ? max(startCol + 1, range.end.column)
                : max(startCol + 1, lineLength + 1)
            // Tabs in the prefix are copied so the caret lines up in any terminal.
            var prefix = ""
            for (index, scalar) in lineText.unicodeScalars.enumerated() where index < startCol - 1 {
                prefix.unicodeScalars.append(scalar == "\t" ? "\t" : " ")
            }
            if startCol - 1 > lineLength {
                prefix += String(repeating: " ", count: startCol - 1 - lineLength)
            }
            out += "\(pad) | \(prefix)\(String(repeating: "^", count: max(1, endCol - startCol)))\n"
        }
        if let note { out += "  = note: \(note)\n" }
        if let help { out += "  = help: \(help)\n" }
        return out
    }

    /// One-line form `file:line:col: severity[code]: message`, for logs.
    public var summary: String {
        "\(range.file):\(range.start.line):\(range.start.column): \(severity.rawValue)[\(code)]: \(message)"
    }
}

extension Sequence where Element == Diagnostic {
    /// Whether any diagnostic is an error.
    public var containsErrors: Bool { contains { $0.severity == .error } }
}
