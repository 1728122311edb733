-- A transaction's id is the sender's idempotency key, but an id alone cannot tell a
-- replay from a different transaction that reuses the id: both used to be acked as
-- duplicates, and the second one was lost without a trace.
--
-- content_digest is the SHA-256 of the transaction's canonical content (the decoded,
-- validated fields in a fixed order; the encoding is documented in docs/operations.md
-- and Sources/PostgresStore/ContentDigest.swift). The same id with the same digest is a
-- replay (acked as a duplicate); with another digest it is nacked `id_conflict`.
-- Rows stored before this migration have NULL: their content cannot be compared, so a
-- record with such an id is treated as a replay, as before.
-- A nullable column with no default is added without rewriting the table.
ALTER TABLE transactions ADD COLUMN content_digest bytea;

-- An id_conflict reject keeps both digests: the content stored under the id and the
-- content this record carried (NULL for every other kind of reject).
ALTER TABLE rejected_records
    ADD COLUMN stored_digest bytea,
    ADD COLUMN received_digest bytea;
