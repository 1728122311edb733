/// The rows a statement returned, copied out of libpq's result in text format.
public struct PostgresRows: Sendable, Sequence {
    /// Column names in order.
    public let columns: [String]
    /// Cell values in text format, row-major; `nil` is SQL NULL.
    let cells: [String?]
    /// Rows affected, for INSERT/UPDATE/DELETE/COPY (`PQcmdTuples`).
    public let affectedRows: Int

    /// Number of rows returned.
    public var count: Int { columns.isEmpty ? 0 : cells.count / columns.count }

    /// The row at `index`.
    public subscript(index: Int) -> PostgresRow { PostgresRow(rows: self, index: index) }

    public func makeIterator() -> AnyIterator<PostgresRow> {
        var i = 0
        return AnyIterator {
            guard i < self.count else { return nil }
            defer { i += 1 }
            return self[i]
        }
    }

    /// The first row, if any.
    public var first: PostgresRow? { count > 0 ? self[0] : nil }
}

/// One result row.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let index: Int

    /// The raw text of column `column`; `nil` for NULL.
    public func text(_ column: Int) -> String? {
        guard column >= 0, column < rows.columns.count else { return nil }
        return rows.cells[index * rows.columns.count + column]
    }

    /// Decodes column `column`; throws when it is NULL or not a valid `T`.
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws -> T {
        guard let value = try decodeIfPresent(column, as: type) else {
            throw PostgresError(code: .decoding, message: "column \(columnName(column)) is NULL where \(T.self) was expected")
        }
        return value
    }

    /// Decodes column `column`; `nil` when it is NULL, throws when it is not a valid `T`.
    public func decodeIfPresent<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws -> T? {
        guard column >= 0, column < rows.columns.count else {
            throw PostgresError(code: .misuse, message: "column index \(column) is out of range (the row has \(rows.columns.count))")
        }
        guard let text = text(column) else { return nil }
        guard let value = T(postgresText: text) else {
            throw PostgresError(code: .decoding, message: "column \(columnName(column)) holds \"\(text.prefix(60))\", which is not a valid \(T.self)")
        }
        return value
    }

    /// Decodes the column named `name`.
    public func decode<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        try decode(try columnIndex(name), as: type)
    }

    /// Decodes the column named `name`, `nil` for NULL.
    public func decodeIfPresent<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T? {
        try decodeIfPresent(try columnIndex(name), as: type)
    }

    private func columnIndex(_ name: String) throws -> Int {
        guard let i = rows.columns.firstIndex(of: name) else {
            throw PostgresError(code: .misuse, message: "no column named \(name) (columns: \(rows.columns.joined(separator: ", ")))")
        }
        return i
    }

    private func columnName(_ column: Int) -> String {
        column < rows.columns.count ? "\"\(rows.columns[column])\"" : "#\(column)"
    }
}
