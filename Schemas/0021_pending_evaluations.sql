-- A record answered with the operator's fallback (detection missed its decision budget)
-- is stored and acked at once and evaluated afterwards. Its id is kept here from the
-- fallback's own commit until the commit of that evaluation (its rule hits and alert), so
-- a crash in between (kill -9, a lost host) loses no alert: at start the pending records
-- are left out of the state rebuild and evaluated as if they had just arrived.
CREATE TABLE pending_evaluations (
    transaction_id text COLLATE "C" PRIMARY KEY REFERENCES transactions (id) ON DELETE CASCADE,
    stored_at      timestamptz NOT NULL DEFAULT now()
);
