-- Two changes that make storing a transaction cheaper (measured in docs/benchmarks.md).
--
-- The raw line is kept as `json` instead of `jsonb`: json is validated and stored as
-- the exact text that arrived (key order, number spelling and all, which is what an
-- auditor wants to see), while jsonb is parsed into a tree and its keys sorted on every
-- insert, a sixth of the database's work per transaction. The `->`/`->>` operators work
-- on both; cast to jsonb in a query that needs containment or jsonb indexes.
ALTER TABLE transactions ALTER COLUMN raw TYPE json USING raw::json;

-- Ids are opaque keys: compared byte by byte ("C" collation) they need no
-- locale-aware comparison (strcoll) in the primary key on every insert and lookup.
-- The columns that hold them follow, so the foreign key and the rule-hit key compare alike.
ALTER TABLE alerts ALTER COLUMN transaction_id TYPE text COLLATE "C";
ALTER TABLE rule_hits ALTER COLUMN transaction_id TYPE text COLLATE "C";
ALTER TABLE transactions ALTER COLUMN id TYPE text COLLATE "C";
