/// A line diff of two sets of named texts, in the unified style (`-`/`+`, two lines of context).
public enum TextDiff {
    /// The differences between `old` and `new` (texts by name), or `no difference`.
    public static func render(old: [String: String], new: [String: String], oldLabel: String, newLabel: String) -> String {
        var out: [String] = []
        for name in Set(old.keys).union(new.keys).sorted() {
            let a = old[name].map(lines) ?? []
            let b = new[name].map(lines) ?? []
            guard a != b else { continue }
            out.append("--- \(oldLabel)/\(name)\(old[name] == nil ? " (absent)" : "")")
            out.append("+++ \(newLabel)/\(name)\(new[name] == nil ? " (absent)" : "")")
            out += hunks(a, b)
        }
        return out.isEmpty ? "no difference" : out.joined(separator: "\n")
    }

    private static func lines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// Both sides aligned from the standard library's difference, then printed with context.
    private static func hunks(_ a: [String], _ b: [String]) -> [String] {
        let difference = b.difference(from: a)
        var removed = Set<Int>()
        var inserted = Set<Int>()
        for change in difference {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        // Walk both: unchanged lines advance together.
        var script: [(mark: Character, text: String, line: Int)] = []
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if i < a.count, removed.contains(i) {
                script.append(("-", a[i], i + 1))
                i += 1
            } else if j < b.count, inserted.contains(j) {
                script.append(("+", b[j], j + 1))
                j += 1
            } else {
                if i < a.count { script.append((" ", a[i], i + 1)) }
                i += 1
                j += 1
            }
        }
        let changed = script.indices.filter { script[$0].mark != " " }
        var show = Set<Int>()
        for k in changed { for c in max(0, k - 2)...min(script.count - 1, k + 2) { show.insert(c) } }
        var out: [String] = []
        var last = -2
        for k in show.sorted() {
            if k != last + 1 { out.append("@@ line \(script[k].line) @@") }
            out.append("\(script[k].mark)\(script[k].text)")
            last = k
        }
        return out
    }
}
