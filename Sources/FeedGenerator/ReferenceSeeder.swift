import PostgresStore

/// Writes reference data with upserts in one transaction.
public enum ReferenceSeeder {
    /// Upserts accounts, merchants, FX rates and lists (replacing each list's entries).
    public static func seed(_ reference: ReferenceData, into database: PostgresConnection) async throws {
        try await database.transaction { db in
            for a in reference.accounts {
                try db.execute(
                    """
                    INSERT INTO accounts (id, opened_at, home_country, risk_tier, timezone)
                    VALUES (\(a.id), \(a.openedAt)::timestamptz, \(a.homeCountry), \(a.riskTier), \(a.timezone))
                    ON CONFLICT (id) DO UPDATE SET opened_at = EXCLUDED.opened_at, home_country = EXCLUDED.home_country,
                        risk_tier = EXCLUDED.risk_tier, timezone = EXCLUDED.timezone, updated_at = now()
                    """)
            }
            for m in reference.merchants {
                try db.execute(
                    """
                    INSERT INTO merchants (id, name, mcc, country, risk_level)
                    VALUES (\(m.id), \(m.name), \(m.mcc), \(m.country), \(m.riskLevel))
                    ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, mcc = EXCLUDED.mcc, country = EXCLUDED.country,
                        risk_level = EXCLUDED.risk_level, updated_at = now()
                    """)
            }
            for rate in reference.fxRates {
                try db.execute(
                    """
                    INSERT INTO fx_rates (currency, base_currency, rate) VALUES (\(rate.currency), \(reference.baseCurrency), \(rate.rateToBase)::numeric)
                    ON CONFLICT (currency) DO UPDATE SET base_currency = EXCLUDED.base_currency, rate = EXCLUDED.rate, updated_at = now()
                    """)
            }
            for list in reference.lists {
                try db.execute(
                    """
                    INSERT INTO lists (name, description) VALUES (\(list.name), \(list.kind))
                    ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, updated_at = now()
                    """)
                try db.execute("DELETE FROM list_entries WHERE list_name = \(list.name)")
                for value in list.values {
                    try db.execute("INSERT INTO list_entries (list_name, value) VALUES (\(list.name), \(value)) ON CONFLICT DO NOTHING")
                }
            }
        }
    }
}
