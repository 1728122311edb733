/// Samples parsed from the Prometheus text format `/metrics` serves: enough to read
/// counters, gauges and histograms by name and label, not a general parser.
public struct PrometheusText: Sendable {
    /// One sample line.
    public struct Sample: Sendable, Equatable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    public private(set) var samples: [Sample] = []

    /// Parses the text; lines it cannot read (comments, malformed) are skipped.
    public init(_ text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            if let sample = Self.parse(line) { samples.append(sample) }
        }
    }

    /// Samples named `name`.
    public func samples(named name: String) -> [Sample] { samples.filter { $0.name == name } }

    /// The sum of every sample named `name` (a counter over all its labels).
    public func total(_ name: String) -> Double { samples(named: name).reduce(0) { $0 + $1.value } }

    /// The `q` quantile (0...1) of histogram `name` (from its `_bucket` samples summed over
    /// labels), interpolated linearly within the bucket; nil when it has no observations.
    public func quantile(_ q: Double, ofHistogram name: String) -> Double? {
        var buckets: [Double: Double] = [:]
        for sample in samples(named: name + "_bucket") {
            guard let le = sample.labels["le"] else { continue }
            let bound = le == "+Inf" ? Double.infinity : (Double(le) ?? .nan)
            guard !bound.isNaN else { continue }
            buckets[bound, default: 0] += sample.value
        }
        let sorted = buckets.sorted { $0.key < $1.key }
        guard let total = sorted.last?.value, total > 0 else { return nil }
        let rank = q * total
        var lowerBound = 0.0
        var lowerCount = 0.0
        for (bound, count) in sorted {
            if count >= rank {
                // Past the last finite bucket the best answer is its bound.
                guard bound.isFinite else { return lowerBound }
                let inBucket = count - lowerCount
                let fraction = inBucket > 0 ? (rank - lowerCount) / inBucket : 1
                return lowerBound + (bound - lowerBound) * fraction
            }
            lowerBound = bound
            lowerCount = count
        }
        return lowerBound
    }

    /// The number of observations of histogram `name`.
    public func count(ofHistogram name: String) -> Double { total(name + "_count") }

    static func parse(_ line: Substring) -> Sample? {
        var name = Substring()
        var labels: [String: String] = [:]
        var rest: Substring
        if let brace = line.firstIndex(of: "{") {
            name = line[..<brace]
            guard let close = line.lastIndex(of: "}"), close > brace else { return nil }
            labels = parseLabels(line[line.index(after: brace)..<close])
            rest = line[line.index(after: close)...]
        } else {
            guard let space = line.firstIndex(of: " ") else { return nil }
            name = line[..<space]
            rest = line[space...]
        }
        let fields = rest.split(separator: " ")
        guard !name.isEmpty, let first = fields.first else { return nil }
        let value: Double
        switch first {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        default:
            guard let parsed = Double(first) else { return nil }
            value = parsed
        }
        return Sample(name: String(name), labels: labels, value: value)
    }

    /// `a="x",b="y \"q\""` → labels; escapes `\\`, `\"` and `\n` as the format defines them.
    static func parseLabels(_ text: Substring) -> [String: String] {
        var labels: [String: String] = [:]
        var index = text.startIndex
        while index < text.endIndex {
            guard let equals = text[index...].firstIndex(of: "=") else { break }
            let key = text[index..<equals].trimmingLeadingCommaAndSpace()
            var cursor = text.index(after: equals)
            guard cursor < text.endIndex, text[cursor] == "\"" else { break }
            cursor = text.index(after: cursor)
            var value = ""
            while cursor < text.endIndex, text[cursor] != "\"" {
                if text[cursor] == "\\", text.index(after: cursor) < text.endIndex {
                    cursor = text.index(after: cursor)
                    value.append(text[cursor] == "n" ? "\n" : text[cursor])
                } else {
                    value.append(text[cursor])
                }
                cursor = text.index(after: cursor)
            }
            labels[key] = value
            index = cursor < text.endIndex ? text.index(after: cursor) : cursor
        }
        return labels
    }
}

extension Substring {
    fileprivate func trimmingLeadingCommaAndSpace() -> String {
        String(drop { $0 == "," || $0 == " " })
    }
}
