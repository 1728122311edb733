-- Reversals visible to rules (issue 22): `card.reversals`, `device.reversals` and
-- `merchant.reversals` count the earlier transactions of an entity that were reversed.
--
-- One rule decides which stored reversal counts, and it is decided once, by the writer,
-- in the transaction that stores the reversal: it counts when its original transaction
-- was already stored (committed) then, and no earlier reversal of that original counts.
-- A reversal stored before its original (or for one never seen) never counts, even once
-- the original arrives; a repeat or a second reversal of the same original does not
-- count again. Recording the decision here, rather than recomputing it from the two
-- received_at columns (which are transaction start times, not commit times), is what
-- lets a restart, a standby's takeover and a backtest all count exactly what the live
-- run counted.
ALTER TABLE reversals ADD COLUMN counted boolean NOT NULL DEFAULT false;
-- At most one counted reversal per original, whatever writes.
CREATE UNIQUE INDEX reversals_counted_once ON reversals (original_id) WHERE counted;

-- Reversals stored before this migration: the first one received after its original.
UPDATE reversals r SET counted = true
FROM (
    SELECT DISTINCT ON (r.original_id) r.id
    FROM reversals r JOIN transactions t ON t.id = r.original_id
    WHERE t.received_at < r.received_at
    ORDER BY r.original_id, r.received_at, r.id
) first
WHERE r.id = first.id;
