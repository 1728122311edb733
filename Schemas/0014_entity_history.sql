-- Card, device and merchant histories (issue 16): what each entity did over every account
-- that used it (first and newest event time, transactions counted, mean and largest
-- amount_base, the 7-day decayed count behind X.hourly_rate). They are shared by the detection
-- workers and checkpointed like the account profiles: each row says which stored
-- transactions it includes (all with received_at at or before checkpoint_through), and
-- entity_checkpoints.through is where the replay at start begins: every entity with a
-- transaction received at or before it has a row that includes that transaction.
--
-- float8, not numeric: statistics compared with generous factors; float8 text
-- round-trips a Swift Double exactly, so a restart rebuilds the same histories.
-- In memory each kind is capped (least recently seen evicted); rows of evicted entities
-- stay here and are loaded oldest first at start, so the cap applies again then.
CREATE TABLE entity_history (
    kind               text NOT NULL CHECK (kind IN ('card', 'device', 'merchant')),
    entity_id          text NOT NULL,
    txn_count          bigint NOT NULL,
    amount_count       bigint NOT NULL,
    mean_amount_base   float8 NOT NULL,
    max_amount_base    float8 NOT NULL,
    first_seen         timestamptz,
    last_seen          timestamptz,
    rate_week          float8 NOT NULL DEFAULT 0,   -- decayed to last_seen
    checkpoint_through timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, entity_id)
);

CREATE TABLE entity_checkpoints (
    id       integer PRIMARY KEY CHECK (id = 1),
    through  timestamptz NOT NULL
);
INSERT INTO entity_checkpoints (id, through) VALUES (1, '-infinity');
