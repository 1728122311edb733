-- Vigil's first schema. Money is always integer minor units plus its ISO 4217 code,
-- never a float. Times are timestamptz (stored as UTC). Each index says which query
-- needs it: an index on a hot table costs every insert, so each has to earn its keep.

-- Every transaction accepted on the feed, stored once (the id is the sender's
-- idempotency key: a replay hits the primary key and is acked as a duplicate).
CREATE TABLE transactions (
    id            text PRIMARY KEY,
    account_id    text NOT NULL,
    card_id       text,
    amount_minor  bigint NOT NULL CHECK (amount_minor > 0),
    currency      char(3) NOT NULL,
    merchant_id   text,
    mcc           text,
    country       char(2),
    channel       text NOT NULL CHECK (channel IN ('card_present', 'card_not_present', 'atm', 'transfer')),
    device_id     text,
    ip            text,
    latitude      double precision,
    longitude     double precision,
    event_time    timestamptz NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    raw           jsonb NOT NULL
);
-- Window state is rebuilt at start from the transactions of the longest declared
-- window (WHERE event_time >= now() - interval): a BRIN index serves that range scan
-- for almost no insert cost, because rows arrive roughly in event-time order.
CREATE INDEX transactions_event_time_brin ON transactions USING brin (event_time);

-- Feed lines that were nacked, with the raw bytes kept so nothing is silently dropped.
CREATE TABLE rejected_records (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    record_id     text,                -- the id, when one could be read
    error_code    text NOT NULL,       -- invalid_json, missing_field, ...
    message       text NOT NULL,
    raw_line      text NOT NULL,       -- the line; bytes that are not UTF-8 are escaped as \xNN
    raw_bytes     bytea,               -- the exact bytes (truncated lines keep their first 64 KiB)
    peer          text,                -- the connection's remote address
    received_at   timestamptz NOT NULL DEFAULT now()
);
-- Operators look at the latest rejects first and count them by reason over time.
CREATE INDEX rejected_records_received_at ON rejected_records (received_at);

-- Reference data, cached in memory by the pipeline and refreshed on NOTIFY.
CREATE TABLE accounts (
    id            text PRIMARY KEY,
    opened_at     timestamptz,
    home_country  char(2),
    risk_tier     text,
    timezone      text,                -- IANA zone for hour_of_day, e.g. Europe/Berlin
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE merchants (
    id            text PRIMARY KEY,
    name          text,
    mcc           text,
    country       char(2),
    risk_level    text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Exchange rates to the base currency: amount_base = amount * rate. numeric, exact.
CREATE TABLE fx_rates (
    currency      char(3) PRIMARY KEY,
    base_currency char(3) NOT NULL,
    rate          numeric(24, 12) NOT NULL CHECK (rate > 0),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Named lists the rules refer to (blocked merchants, high-risk countries, ...).
CREATE TABLE lists (
    name          text PRIMARY KEY,
    description   text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE list_entries (
    list_name     text NOT NULL REFERENCES lists (name) ON DELETE CASCADE,
    value         text NOT NULL,
    added_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (list_name, value)     -- also serves "load one list's entries"
);

-- Learned per-account behaviour, checkpointed in the same transaction as the batch
-- that changed it (Welford's running mean and M2 of the base amount, in minor units).
CREATE TABLE account_profiles (
    account_id        text PRIMARY KEY,
    txn_count         bigint NOT NULL DEFAULT 0,
    mean_amount_base  numeric NOT NULL DEFAULT 0,
    m2_amount_base    numeric NOT NULL DEFAULT 0,
    last_country      char(2),
    last_latitude     double precision,
    last_longitude    double precision,
    last_seen         timestamptz,
    known_devices     text[] NOT NULL DEFAULT '{}',
    known_cards       text[] NOT NULL DEFAULT '{}',
    known_countries   text[] NOT NULL DEFAULT '{}',
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Every ruleset that was loaded, by content hash; alerts and hits name the version.
CREATE TABLE ruleset_versions (
    version       text PRIMARY KEY,    -- content hash of the rules files
    loaded_at     timestamptz NOT NULL DEFAULT now(),
    files         jsonb NOT NULL,      -- [{"path": ..., "sha256": ...}]
    rule_count    integer NOT NULL
);

-- One alert per transaction whose alert-mode rules hit.
CREATE TABLE alerts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id  text NOT NULL UNIQUE REFERENCES transactions (id),  -- a replay never raises a second alert
    account_id      text NOT NULL,
    amount_minor    bigint NOT NULL,
    currency        char(3) NOT NULL,
    severity        text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    total_score     integer NOT NULL CHECK (total_score BETWEEN 0 AND 100),
    rules           jsonb NOT NULL,    -- [{"rule": id, "score": n, "severity": s, "reason": text}]
    ruleset_version text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
-- `vigil webhooks replay --since TIME` and the demo's summary read alerts by time.
CREATE INDEX alerts_created_at ON alerts (created_at);

-- Every rule that hit (alert or shadow mode), including hits decided by an
-- evaluation error under a fail-closed rule.
CREATE TABLE rule_hits (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id  text NOT NULL,
    rule_id         text NOT NULL,
    mode            text NOT NULL CHECK (mode IN ('alert', 'shadow')),
    severity        text NOT NULL,
    score           integer NOT NULL,
    reason          text NOT NULL,
    on_error        boolean NOT NULL DEFAULT false,  -- true: hit because evaluation failed and the rule fails closed
    ruleset_version text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
-- Per-rule hit counts over time (shadow-rule review, the demo's alerts per rule).
CREATE INDEX rule_hits_rule_created ON rule_hits (rule_id, created_at);
-- A replayed transaction must not record its hits twice.
CREATE UNIQUE INDEX rule_hits_transaction_rule ON rule_hits (transaction_id, rule_id);

-- Webhook consumers (Standard Webhooks).
CREATE TABLE webhook_endpoints (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url                  text NOT NULL,
    secret               text NOT NULL,          -- whsec_<base64>
    previous_secret      text,                   -- still signs during rotation
    previous_secret_until timestamptz,
    event_types          text[] NOT NULL DEFAULT '{alert.created}',
    min_severity         text CHECK (min_severity IN ('low', 'medium', 'high', 'critical')),
    enabled              boolean NOT NULL DEFAULT true,
    disabled_reason      text,
    failing_since        timestamptz,            -- first failure of the current failing streak
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- The transactional outbox: one row per (alert, endpoint), committed with the alert.
CREATE TABLE webhook_outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id       text NOT NULL,              -- webhook-id, stable across retries and replays
    endpoint_id      bigint NOT NULL REFERENCES webhook_endpoints (id),
    alert_id         bigint NOT NULL REFERENCES alerts (id),
    event_type       text NOT NULL DEFAULT 'alert.created',
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    UNIQUE (alert_id, endpoint_id)
);
-- The dispatcher claims due rows (status = 'pending' AND next_attempt_at <= now()
-- ... FOR UPDATE SKIP LOCKED): a partial index keeps that scan to pending rows only.
CREATE INDEX webhook_outbox_due ON webhook_outbox (endpoint_id, next_attempt_at) WHERE status = 'pending';

-- Every delivery attempt, for `vigil webhooks deliveries` and debugging consumers.
CREATE TABLE webhook_deliveries (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id     bigint NOT NULL REFERENCES webhook_outbox (id),
    endpoint_id   bigint NOT NULL,
    attempt       integer NOT NULL,
    attempted_at  timestamptz NOT NULL DEFAULT now(),
    status_code   integer,
    latency_ms    integer,
    error         text
);
-- Listing one outbox row's attempts, and an endpoint's recent attempts.
CREATE INDEX webhook_deliveries_outbox ON webhook_deliveries (outbox_id);
CREATE INDEX webhook_deliveries_endpoint_time ON webhook_deliveries (endpoint_id, attempted_at);
