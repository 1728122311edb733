-- Baselines in the account profiles (issue 16): when the account was first seen, its
-- exponentially decayed transaction counts (7-day and 30-day time constants, decayed to
-- rate_updated_at) from which profile.hourly_rate and profile.daily_rate follow, and
-- amount statistics per channel: 16 values, four per channel in the order card_present,
-- card_not_present, atm, transfer (count, mean, Welford M2, max of amount_base).
--
-- float8, not numeric: these are statistics compared with generous factors, and float8
-- text round-trips a Swift Double exactly, so a restart rebuilds the same baselines.
-- Rows written before this migration start their rates and channel statistics from the
-- first transaction after it (first_seen NULL reads as "no rate history yet").
ALTER TABLE account_profiles
    ADD COLUMN first_seen      timestamptz,
    ADD COLUMN rate_week       float8 NOT NULL DEFAULT 0,
    ADD COLUMN rate_month      float8 NOT NULL DEFAULT 0,
    ADD COLUMN rate_updated_at timestamptz,
    ADD COLUMN channel_stats   float8[] NOT NULL DEFAULT '{}';
