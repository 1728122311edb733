/// Structural keys of checked expressions: two expressions with the same key compute the
/// same value on every record, so the rule index evaluates such a key once per record
/// however many rules test it.
///
/// Every node writes its kind, its type and its operands; strings carry their length so
/// no two different trees can spell the same key.
enum Canonical {
    static func key(_ t: TypedExpr) -> String {
        var out = ""
        write(t, into: &out)
        return out
    }

    static func write(_ t: TypedExpr, into out: inout String) {
        out += t.type.description
        switch t.kind {
        case .constant(let v):
            out += "k"
            write(v, into: &out)
        case .field(let f): out += "f\(f.rawValue)"
        case .window(let slot, _): out += "w\(slot)"
        case .not: out += "!"
        case .negate: out += "neg"
        case .and: out += "&"
        case .or: out += "|"
        case .compare(let op, _, _): out += "c" + op
        case .arithmetic(let op, _, _): out += "a" + op
        case .coalesce: out += "??"
        case .toDecimal: out += "dec"
        case .inList(_, let slot, _, let negated): out += "l\(slot)\(negated ? "n" : "")"
        case .inSet(_, let members, let negated):
            out += "s\(negated ? "n" : "")\(members.count)"
            for m in members.sorted() { write(.string(m), into: &out) }
        case .present(_, let negated): out += negated ? "missing" : "present"
        case .call(let fn, _):
            out += "@" + fn.name
            if case .matches(let regex) = fn { write(.string(regex.pattern), into: &out) }
        }
        let children = t.children
        out += "(\(children.count)"
        for child in children {
            out += ","
            write(child, into: &out)
        }
        out += ")"
    }

    static func write(_ v: Value, into out: inout String) {
        switch v {
        case .absent: out += "absent"
        case .bool(let b): out += b ? "T" : "F"
        case .int(let i): out += "i\(i);"
        case .decimal(let d): out += "d\(d.units);"
        case .string(let s): out += "s\(s.utf8.count):" + s
        case .timestamp(let t): out += "t\(t);"
        case .duration(let d): out += "u\(d);"
        case .error(let e): out += "e" + e.description + ";"
        }
    }
}
