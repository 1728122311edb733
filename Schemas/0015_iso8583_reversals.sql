-- ISO 8583 reversals (issue 22): 0400/0420 messages that undo an earlier authorisation.
--
-- Kept beside transactions rather than as an UPDATE of them, so the order in which a
-- reversal and its original arrive does not matter (a reversal may commit before its
-- original, which is still in the pipeline, or arrive for one never seen). Each row is
-- dated twice: reversed_at (the sender's field 7) and received_at, so a backtest "as of"
-- a moment counts only the reversals known then.
CREATE TABLE reversals (
    id            text PRIMARY KEY,        -- the reversal's own correlation key: a repeat of it is a duplicate
    original_id   text NOT NULL,           -- transactions.id of what it reverses (not a foreign key: see above)
    mti           char(4) NOT NULL,        -- 0400, 0401, 0420, 0421
    amount_minor  bigint,                  -- field 4 in minor units of currency, when sent
    currency      char(3),
    reversed_at   timestamptz NOT NULL,    -- field 7 of the reversal (UTC)
    received_at   timestamptz NOT NULL DEFAULT now(),
    feed_session  bigint,                  -- feed_sessions.id of the connection it came on
    raw           jsonb NOT NULL           -- the reversal's identifiers (never card data)
);
-- "Was this transaction reversed?" is asked by transaction id.
CREATE INDEX reversals_original_id ON reversals (original_id);

-- Each reversed transaction with its first reversal: what rules, backtests and operators read.
CREATE VIEW transaction_reversals AS
    SELECT original_id AS transaction_id,
           min(reversed_at) AS reversed_at,
           min(received_at) AS received_at,
           count(*) AS reversal_count
    FROM reversals
    GROUP BY original_id;
