/// "Did you mean" suggestions: a case-insensitive exact match first, then the nearest
/// name by Levenshtein distance within a third of the name's length.
enum Suggest {
    static func closest(to name: String, in candidates: some Sequence<String>) -> String? {
        let lower = name.lowercased()
        var best: (String, Int)? = nil
        for candidate in candidates {
            if candidate.lowercased() == lower { return candidate }
            let d = distance(lower, candidate.lowercased())
            if let (b, bd) = best, d > bd || (d == bd && candidate >= b) { continue }
            best = (candidate, d)
        }
        guard let (candidate, d) = best else { return nil }
        let limit = max(1, (name.count + 2) / 3)
        return d <= limit ? candidate : nil
    }

    /// Levenshtein distance over Unicode scalars, bounded to inputs of 64 scalars.
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars.prefix(64))
        let y = Array(b.unicodeScalars.prefix(64))
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        var row = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            row[0] = i
            for j in 1...y.count {
                row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            swap(&previous, &row)
        }
        return previous[y.count]
    }
}
