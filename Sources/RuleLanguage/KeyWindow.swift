/// The events of one key in one window, oldest first, with running aggregates.
struct KeyWindow: Sendable {
    struct Event: Sendable {
        var time: Int64
        /// The aggregated number: an int, or decimal/money units.
        var number: Int64
        /// The value counted by count_distinct.
        var text: String?
        /// Insertion order, to match a queue entry with the event being evicted.
        var seq: Int64 = 0
    }

    var events: [Event] = []
    var head = 0
    /// Wrapping sum: adding and then subtracting the same values is exact whatever the order.
    var sum: Int64 = 0
    /// Monotonic queue (decreasing numbers) for max.
    var maxQueue: [Event] = []
    var maxHead = 0
    var distinct: [String: Int] = [:]
    var newest: Int64 = .min
    var nextSeq: Int64 = 0

    var count: Int { events.count - head }

    /// Adds `event` (if any), evicts what is at or before `now - duration`, and returns the
    /// aggregate.
    mutating func update(_ event: Event?, now: Int64, spec: WindowSpec, cap: Int) -> Value {
        if var e = event {
            e.time = max(e.time, newest)
            newest = e.time
            e.seq = nextSeq
            nextSeq &+= 1
            events.append(e)
            sum = sum &+ e.number
            if spec.aggregate == .max {
                while maxQueue.count > maxHead, let last = maxQueue.last, last.number <= e.number { maxQueue.removeLast() }
                maxQueue.append(e)
            }
            if spec.aggregate == .countDistinct, let t = e.text { distinct[t, default: 0] += 1 }
        }
        let cutoff = now &- spec.duration
        while count > 0, events[head].time <= cutoff || count > cap {
            removeOldest(spec)
        }
        compact()
        return value(spec)
    }

    mutating func removeOldest(_ spec: WindowSpec) {
        let e = events[head]
        head += 1
        sum = sum &- e.number
        if spec.aggregate == .countDistinct, let t = e.text {
            let n = (distinct[t] ?? 1) - 1
            distinct[t] = n > 0 ? n : nil
        }
        if spec.aggregate == .max, maxHead < maxQueue.count, maxQueue[maxHead].seq == e.seq {
            maxHead += 1
        }
    }

    /// Drops consumed prefixes once they are half the storage, keeping appends amortised O(1).
    mutating func compact() {
        if head > 32 && head * 2 > events.count {
            events.removeFirst(head)
            head = 0
        }
        if maxHead > 32 && maxHead * 2 > maxQueue.count {
            maxQueue.removeFirst(maxHead)
            maxHead = 0
        }
    }

    func value(_ spec: WindowSpec) -> Value {
        let isInt = (spec.valueType?.base ?? .int) == .int
        switch spec.aggregate {
        case .count:
            return .int(Int64(count))
        case .countDistinct:
            return .int(Int64(distinct.count))
        case .sum:
            return isInt ? .int(sum) : .decimal(DecimalValue(units: sum))
        case .avg:
            guard count > 0 else { return .absent }
            if isInt {
                guard let s = DecimalValue(integer: sum), let n = DecimalValue(integer: Int64(count)) else { return .error(.overflow) }
                return Arithmetic.dec(s.divided(by: n))
            }
            return .decimal(DecimalValue(units: sum / Int64(count)))
        case .max:
            guard maxHead < maxQueue.count, count > 0 else { return .absent }
            let m = maxQueue[maxHead].number
            return isInt ? .int(m) : .decimal(DecimalValue(units: m))
        }
    }
}
