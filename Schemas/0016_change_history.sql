-- History for changing rules safely (issue 18).
--
-- Reference data as it was at any time, for backtests (`vigil rules backtest`): every
-- change to the reference tables is kept with its time, the row before and after, so
-- the state at a moment is today's tables with the later changes undone.
--
-- Before this migration nothing was recorded: a backtest of an older period sees the
-- reference data as it stood when recording began (docs/backtest.md says so).

CREATE TABLE reference_history (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name  text NOT NULL,
    operation   char(1) NOT NULL CHECK (operation IN ('I', 'U', 'D')),
    old_row     jsonb,                 -- NULL for an insert
    new_row     jsonb,                 -- NULL for a delete
    changed_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX reference_history_changed_at ON reference_history (changed_at);

CREATE FUNCTION vigil_record_reference_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO reference_history (table_name, operation, new_row) VALUES (TG_TABLE_NAME, 'I', to_jsonb(NEW));
    ELSIF TG_OP = 'UPDATE' THEN
        IF to_jsonb(OLD) - 'updated_at' IS DISTINCT FROM to_jsonb(NEW) - 'updated_at' THEN
            INSERT INTO reference_history (table_name, operation, old_row, new_row)
            VALUES (TG_TABLE_NAME, 'U', to_jsonb(OLD), to_jsonb(NEW));
        END IF;
    ELSE
        INSERT INTO reference_history (table_name, operation, old_row) VALUES (TG_TABLE_NAME, 'D', to_jsonb(OLD));
    END IF;
    RETURN NULL;
END;
$$;

-- TRUNCATE fires no row trigger: record each row it removes as a delete, before it goes.
CREATE FUNCTION vigil_record_reference_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'INSERT INTO reference_history (table_name, operation, old_row) SELECT %L, ''D'', to_jsonb(t) FROM %I t',
        TG_TABLE_NAME, TG_TABLE_NAME);
    RETURN NULL;
END;
$$;

CREATE TRIGGER accounts_history AFTER INSERT OR UPDATE OR DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION vigil_record_reference_change();
CREATE TRIGGER merchants_history AFTER INSERT OR UPDATE OR DELETE ON merchants
    FOR EACH ROW EXECUTE FUNCTION vigil_record_reference_change();
CREATE TRIGGER fx_rates_history AFTER INSERT OR UPDATE OR DELETE ON fx_rates
    FOR EACH ROW EXECUTE FUNCTION vigil_record_reference_change();
CREATE TRIGGER lists_history AFTER INSERT OR UPDATE OR DELETE ON lists
    FOR EACH ROW EXECUTE FUNCTION vigil_record_reference_change();
CREATE TRIGGER list_entries_history AFTER INSERT OR UPDATE OR DELETE ON list_entries
    FOR EACH ROW EXECUTE FUNCTION vigil_record_reference_change();

CREATE TRIGGER accounts_history_truncate BEFORE TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION vigil_record_reference_truncate();
CREATE TRIGGER merchants_history_truncate BEFORE TRUNCATE ON merchants
    FOR EACH STATEMENT EXECUTE FUNCTION vigil_record_reference_truncate();
CREATE TRIGGER fx_rates_history_truncate BEFORE TRUNCATE ON fx_rates
    FOR EACH STATEMENT EXECUTE FUNCTION vigil_record_reference_truncate();
CREATE TRIGGER lists_history_truncate BEFORE TRUNCATE ON lists
    FOR EACH STATEMENT EXECUTE FUNCTION vigil_record_reference_truncate();
CREATE TRIGGER list_entries_history_truncate BEFORE TRUNCATE ON list_entries
    FOR EACH STATEMENT EXECUTE FUNCTION vigil_record_reference_truncate();

-- Ruleset versions you can read: the full text each version was compiled from (rules
-- files by name, file lists' members), who made it live and why; and every time a
-- version went live (at start when it differs from the last one, on each reload).
ALTER TABLE ruleset_versions
    ADD COLUMN texts   jsonb,          -- {"velocity.rules": "...", "list blocked_merchants": "..."}; NULL before this migration
    ADD COLUMN author  text,
    ADD COLUMN message text;

CREATE TABLE ruleset_activations (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version   text NOT NULL REFERENCES ruleset_versions (version),
    live_at   timestamptz NOT NULL DEFAULT now(),
    author    text NOT NULL,           -- API token name, or the operating-system user for a start or SIGHUP
    how       text NOT NULL CHECK (how IN ('start', 'reload', 'approval')),
    message   text
);
CREATE INDEX ruleset_activations_live_at ON ruleset_activations (live_at);

-- The order the pipeline decided transactions in: with `received_at` (one per writer
-- batch, increasing), the row's position in its batch. A backtest replays in this order,
-- which is what windows keyed by card or device saw live when several connections
-- interleave. NULL for rows stored before this migration (replayed by event time).
ALTER TABLE transactions ADD COLUMN arrival integer;
