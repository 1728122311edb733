/// A predicate the rule index can decide for many rules at once: a cheap key expression
/// (`amount_base`, `country ?? ""`, `is_new_device`) tested against constants.
///
/// The index only ever uses an atom to prove it `.bool(false)`; a key that is absent, an
/// error or of an unexpected kind proves nothing, so the rule is then evaluated in full.
struct Atom {
    /// What the key must satisfy for the atom not to be false.
    enum Test {
        /// The key equals one of these values (`==`, `in [...]`, `in list`, a bare boolean).
        case oneOf(Set<Value>)
        /// The key's ordered payload is at least this (`>=`, `>` as `>= k + 1`).
        case atLeast(Int64)
        /// The key's ordered payload is at most this (`<=`, `<` as `<= k - 1`).
        case atMost(Int64)
    }

    /// Canonical text of the key expression (with its kind for thresholds): atoms with
    /// the same key share one evaluation of it.
    let key: String
    let keyExpr: TypedExpr
    let test: Test
    /// Set when the atom is `present(field)`: the rule is false whenever the field is absent.
    let presentField: Field?
}

/// Extracts, from a rule's condition, sets of atoms that are necessary for it to be
/// anything but `.bool(false)`.
///
/// The condition can be non-false only if, for at least one alternative, none of that
/// alternative's atoms is false: `and` is false as soon as one operand is false (whatever
/// the other, errors included), and `or` is false only when both operands are. `nil`
/// means "no useful constraint": the rule must be evaluated on every record.
enum RuleAtoms {
    /// Alternatives beyond this many are not worth indexing separately.
    static let maxAlternatives = 8
    /// Keys dearer than this (string helpers, regexes) are never evaluated speculatively.
    static let maxKeyCost = 10

    static func alternatives(_ t: TypedExpr, _ statics: [Set<String>?]) -> [[Atom]]? {
        switch t.kind {
        case .and(let x, let y):
            let a = alternatives(x, statics)
            let b = alternatives(y, statics)
            guard let a else { return b }
            guard let b else { return a }
            if a.count * b.count <= maxAlternatives {
                return a.flatMap { left in b.map { left + $0 } }
            }
            return a.count <= b.count ? a : b
        case .or(let x, let y):
            guard let a = alternatives(x, statics), let b = alternatives(y, statics), a.count + b.count <= maxAlternatives else {
                return nil
            }
            return a + b
        default:
            return atom(t, statics).map { [[$0]] }
        }
    }

    /// The atom a leaf predicate is, if the index can decide it.
    static func atom(_ t: TypedExpr, _ statics: [Set<String>?]) -> Atom? {
        switch t.kind {
        case .compare(let op, let lhs, let rhs):
            if case .constant(let k) = rhs.kind, !lhs.isConstant { return compare(op, lhs, k) }
            if case .constant(let k) = lhs.kind, !rhs.isConstant { return compare(flipped(op), rhs, k) }
            return nil
        case .inSet(let a, let members, negated: false):
            return equal(a, Set(members.map(Value.string)))
        case .inList(let a, let slot, _, negated: false):
            guard let members = statics[safe: slot] ?? nil else { return nil }
            return equal(a, Set(members.map(Value.string)))
        case .present(let x, negated: false):
            guard case .field(let f) = x.kind else { return boolean(t, true) }
            return Atom(key: "=1#" + Canonical.key(t), keyExpr: t, test: .oneOf([.bool(true)]), presentField: f)
        case .not(let a):
            return boolean(a, false)
        case .constant:
            return nil
        default:
            return boolean(t, true)
        }
    }

    static func boolean(_ t: TypedExpr, _ value: Bool) -> Atom? {
        guard t.type.base == .bool else { return nil }
        return equal(t, [.bool(value)])
    }

    /// `key` equal to one of `values`, all of one kind (the kind is part of the atom's key,
    /// so one dispatch never mixes kinds) and none an error or absent (compared with those,
    /// `==` is an error, never false).
    static func equal(_ key: TypedExpr, _ values: Set<Value>) -> Atom? {
        guard keyable(key), let kind = values.first?.kindTag, values.allSatisfy({ $0.kindTag == kind && $0.isPresent }) else {
            return nil
        }
        return Atom(key: "=\(kind)#" + Canonical.key(key), keyExpr: key, test: .oneOf(values), presentField: nil)
    }

    static func compare(_ op: String, _ key: TypedExpr, _ k: Value) -> Atom? {
        guard keyable(key) else { return nil }
        if op == "==" { return equal(key, [k]) }
        guard let (kind, units) = k.ordered else { return nil }
        let test: Atom.Test
        switch op {
        case ">=": test = .atLeast(units)
        case ">":
            guard units < .max else { return nil }
            test = .atLeast(units + 1)
        case "<=": test = .atMost(units)
        case "<":
            guard units > .min else { return nil }
            test = .atMost(units - 1)
        default: return nil
        }
        return Atom(key: "\(kind)#" + Canonical.key(key), keyExpr: key, test: test, presentField: nil)
    }

    static func keyable(_ t: TypedExpr) -> Bool {
        !t.isConstant && Cost.of(t) <= maxKeyCost
    }

    static func flipped(_ op: String) -> String {
        switch op {
        case "<": ">"
        case "<=": ">="
        case ">": "<"
        case ">=": "<="
        default: op
        }
    }
}

extension Value {
    /// The kind and payload of a value that `<`/`>` compare as a plain `Int64`.
    var ordered: (kind: UInt8, units: Int64)? {
        switch self {
        case .int(let i): (1, i)
        case .decimal(let d): (2, d.units)
        case .timestamp(let t): (3, t)
        case .duration(let d): (4, d)
        default: nil
        }
    }
}
