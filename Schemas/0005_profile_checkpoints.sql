-- Account profiles are checkpointed every few seconds instead of with every batch
-- (rewriting a wide profile row per transaction was two thirds of the database's work).
-- A checkpoint writes every profile changed since the previous one and moves this
-- marker, in the same transaction as the batch it rides on; at start the profiles are
-- loaded and then the transactions stored after the marker are replayed into them.
CREATE TABLE profile_checkpoints (
    id       integer PRIMARY KEY CHECK (id = 1),
    through  timestamptz NOT NULL      -- received_at of the last batch the profiles include
);
INSERT INTO profile_checkpoints (id, through) VALUES (1, '-infinity');

-- The replay at start reads the transactions stored after the marker.
CREATE INDEX transactions_received_at_brin ON transactions USING brin (received_at);
