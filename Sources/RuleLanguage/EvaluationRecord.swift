import VigilCore

/// What one rule evaluation reads: a transaction's fields, its enrichment and the current
/// values of the ruleset's windows, each in a precomputed slot.
///
/// Fields are indexed by `Field` (its raw value is the slot), windows by
/// `WindowSpec.slot`. Reuse one record per worker: `reset()` clears it without freeing
/// storage, so filling and evaluating allocate nothing in steady state.
public struct EvaluationRecord: Sendable {
    /// Field values by `Field.rawValue`; `.absent` when not filled.
    public var fields: ContiguousArray<Value>
    /// Window values by window slot; filled by `WindowState.observe(_:)`.
    public var windows: ContiguousArray<Value>

    /// Creates an empty record for a ruleset with `windowCount` windows.
    public init(windowCount: Int) {
        fields = ContiguousArray(repeating: .absent, count: Field.allCases.count)
        windows = ContiguousArray(repeating: .absent, count: max(0, windowCount))
    }

    /// Creates an empty record sized for `ruleset`.
    public init(for ruleset: CompiledRuleset) {
        self.init(windowCount: ruleset.windows.count)
    }

    /// A field's value (inlinable: enrichment, in another module, writes some forty a record).
    @inlinable
    public subscript(field: Field) -> Value {
        get { fields[field.rawValue] }
        set { fields[field.rawValue] = newValue }
    }

    /// A window's value by slot; `.absent` for an out-of-range slot.
    public func window(_ slot: Int) -> Value {
        slot >= 0 && slot < windows.count ? windows[slot] : .absent
    }

    /// Clears every field and window value, keeping the storage.
    public mutating func reset() {
        for i in fields.indices { fields[i] = .absent }
        for i in windows.indices { windows[i] = .absent }
    }

    /// Sets a string field, or `.absent` for `nil`.
    public mutating func set(_ field: Field, _ text: String?) {
        fields[field.rawValue] = text.map(Value.string) ?? .absent
    }

    /// The transaction time, if filled.
    public var timestamp: Timestamp? {
        if case .timestamp(let t) = fields[Field.timestamp.rawValue] { return Timestamp(microsecondsSinceEpoch: t) }
        return nil
    }

    /// Fills the transaction's own fields plus the ones derived from them alone
    /// (`hour_of_day` and `day_of_week` in UTC). Enrichment fields are left as they were.
    public mutating func setTransaction(_ t: Transaction) {
        self[.id] = .string(t.id)
        self[.timestamp] = .timestamp(t.timestamp.microsecondsSinceEpoch)
        self[.accountID] = .string(t.accountID)
        set(.cardID, t.cardID)
        self[.amount] = .money(t.amount)
        self[.currency] = .string(t.amount.currency.code)
        set(.merchantID, t.merchantID)
        set(.mcc, t.mcc)
        set(.country, t.country)
        self[.channel] = .string(t.channel.rawValue)
        set(.deviceID, t.deviceID)
        set(.ip, t.ip)
        self[.lat] = t.latitude.flatMap(DecimalValue.init(approximating:)).map(Value.decimal) ?? .absent
        self[.lon] = t.longitude.flatMap(DecimalValue.init(approximating:)).map(Value.decimal) ?? .absent
        let (hour, weekday) = EvaluationRecord.hourAndWeekday(t.timestamp)
        self[.hourOfDay] = .int(hour)
        self[.dayOfWeek] = .int(weekday)
    }

    /// UTC hour (0-23) and ISO weekday (1 = Monday ... 7) of an instant.
    public static func hourAndWeekday(_ t: Timestamp) -> (hour: Int64, weekday: Int64) {
        let secs = t.secondsSinceEpoch
        var days = secs / 86_400
        var rem = secs % 86_400
        if rem < 0 {
            rem += 86_400
            days -= 1
        }
        // 1970-01-01 was a Thursday (ISO 4).
        var dow = (days + 3) % 7
        if dow < 0 { dow += 7 }
        return (rem / 3600, dow + 1)
    }
}
