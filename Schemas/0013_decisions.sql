-- Every ack carries a decision (allow / review / block), and a replay is answered with
-- the decision stored the first time, never a re-evaluation: the decision is kept on
-- the transaction's row, written by the same COPY that stores the row.
-- Nullable columns with no default are added without rewriting the table; rows stored
-- before this migration have no decision (a replay of one is acked without one).
ALTER TABLE transactions
    ADD COLUMN decision text CHECK (decision IN ('allow', 'review', 'block')),
    ADD COLUMN decision_score smallint CHECK (decision_score BETWEEN 0 AND 100),
    ADD COLUMN decision_rules jsonb,        -- ["rule_id", ...]: the alert-mode rules that hit
    ADD COLUMN decision_ruleset text,       -- the ruleset version that decided ('' for a fallback)
    ADD COLUMN decision_degraded text CHECK (decision_degraded IN ('budget', 'not_evaluated'));

-- An alert raised for a record whose reply was the operator's fallback (detection did
-- not decide within the budget) says so: the sender was not told what the rules decided.
ALTER TABLE alerts
    ADD COLUMN decision text CHECK (decision IN ('allow', 'review', 'block')),
    ADD COLUMN decision_degraded text CHECK (decision_degraded IN ('budget', 'not_evaluated'));
