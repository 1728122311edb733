import Foundation

/// Calls `body` with a NULL-terminated array of C strings (libpq's keyword arrays).
func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    let owned: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { for p in owned { free(p) } }
    var pointers: [UnsafePointer<CChar>?] = owned.map { pointer in pointer.map { UnsafePointer($0) } }
    pointers.append(nil)
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}

/// Calls `body` with parameter values as C strings (`nil` for SQL NULL).
func withBindings<R>(_ bindings: [PostgresBinding], _ body: (Int, UnsafePointer<UnsafePointer<CChar>?>?) -> R) throws -> R {
    if bindings.isEmpty { return body(0, nil) }
    var owned: [UnsafeMutablePointer<CChar>] = []
    owned.reserveCapacity(bindings.count)
    defer { for p in owned { free(p) } }
    var pointers: [UnsafePointer<CChar>?] = []
    pointers.reserveCapacity(bindings.count)
    for (index, binding) in bindings.enumerated() {
        guard let text = binding.text else {
            pointers.append(nil)
            continue
        }
        if text.utf8.contains(0) {
            throw PostgresError(code: .misuse, message: "parameter $\(index + 1) contains a NUL byte, which PostgreSQL text cannot store")
        }
        guard let copy = strdup(text) else {
            throw PostgresError(code: .misuse, message: "out of memory copying parameter $\(index + 1)")
        }
        owned.append(copy)
        pointers.append(UnsafePointer(copy))
    }
    return pointers.withUnsafeBufferPointer { body(bindings.count, $0.baseAddress) }
}
