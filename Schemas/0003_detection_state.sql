-- Detection state: more of the account profile, and change notifications for the
-- reference tables so the in-memory caches refresh without polling.

ALTER TABLE account_profiles
    ADD COLUMN max_amount_base  numeric,
    ADD COLUMN hour_counts      bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN known_merchants  text[] NOT NULL DEFAULT '{}';

-- One notification per changing statement (not per row): the cache reloads the table
-- off the hot path, so a bulk load of 100,000 accounts costs one reload.
CREATE FUNCTION vigil_notify_reference_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('vigil_reference', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;

CREATE TRIGGER accounts_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION vigil_notify_reference_change();
CREATE TRIGGER merchants_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON merchants
    FOR EACH STATEMENT EXECUTE FUNCTION vigil_notify_reference_change();
CREATE TRIGGER fx_rates_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fx_rates
    FOR EACH STATEMENT EXECUTE FUNCTION vigil_notify_reference_change();
CREATE TRIGGER lists_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lists
    FOR EACH STATEMENT EXECUTE FUNCTION vigil_notify_reference_change();
CREATE TRIGGER list_entries_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON list_entries
    FOR EACH STATEMENT EXECUTE FUNCTION vigil_notify_reference_change();
