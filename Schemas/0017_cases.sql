-- Cases, dispositions and the evidence behind each alert (issue 17).
--
-- Every alert belongs to a case. The grouping rule (docs/api.md, "Cases"): an alert joins
-- the newest case of its account that is not closed and whose latest alert is at most
-- `case_settings.group_window` older than it; otherwise it opens a new case. A closed case
-- never takes another alert. The trigger below applies the rule inside the writer's
-- transaction, so an alert and its case commit together (and a rolled-back batch leaves
-- no empty case behind).

CREATE TABLE case_settings (
    only_row      boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    group_window  interval NOT NULL DEFAULT '24 hours' CHECK (group_window >= interval '0')
);
INSERT INTO case_settings DEFAULT VALUES;

CREATE TABLE cases (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id          text NOT NULL,
    status              text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_review', 'closed')),
    assignee            text,
    severity            text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    max_score           integer NOT NULL,
    alert_count         integer NOT NULL DEFAULT 0,
    disposition         text CHECK (disposition IN ('fraud', 'legitimate', 'inconclusive')),
    disposition_reason  text,
    disposed_by         text,
    disposed_at         timestamptz,
    opened_at           timestamptz NOT NULL DEFAULT now(),
    last_alert_at       timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- Increases with every change: a client may send it back (If-Match) so that an update
    -- made on a stale view is refused with 409 instead of overwriting someone else's.
    revision            integer NOT NULL DEFAULT 1,
    CHECK ((status = 'closed') = (disposition IS NOT NULL))
);
-- The grouping lookup (the trigger): the account's cases that still take alerts.
CREATE INDEX cases_open_by_account ON cases (account_id, last_alert_at) WHERE status <> 'closed';
-- The queue: cases by status, newest first (keyset pagination on id).
CREATE INDEX cases_status_id ON cases (status, id);
CREATE INDEX cases_assignee_id ON cases (assignee, id) WHERE assignee IS NOT NULL;

-- Append-only history of every case: who changed what, from what to what, when.
CREATE TABLE case_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES cases (id),
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,        -- a token's name, 'cli:<user>', or 'vigil' for alerts joining
    kind        text NOT NULL CHECK (kind IN ('opened', 'alert_added', 'assigned', 'status', 'note', 'disposed')),
    from_value  text,
    to_value    text,
    alert_id    bigint,               -- the alert that opened or joined the case
    note        text                  -- a note's text, or a disposition's reason
);
CREATE INDEX case_events_case ON case_events (case_id, id);
-- Nothing rewrites the history: updates and deletes are refused at the database.
CREATE FUNCTION vigil_case_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case_events is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION vigil_case_events_append_only();

-- What the rules saw when they decided: every enrichment value and, per rule that hit,
-- the value of each sub-expression (docs/api.md, "Evidence"). Written with the alert.
ALTER TABLE alerts ADD COLUMN evidence jsonb;
ALTER TABLE alerts ADD COLUMN case_id bigint REFERENCES cases (id);
-- An account's alerts (the API's account filter and the activity view).
CREATE INDEX alerts_account_id ON alerts (account_id, id);
CREATE INDEX alerts_case_id ON alerts (case_id);
-- The rule filter: rules @> '[{"rule":"x"}]'.
CREATE INDEX alerts_rules ON alerts USING gin (rules jsonb_path_ops);
-- An account's recent transactions (the activity view): transactions had no account index.
CREATE INDEX transactions_account_time ON transactions (account_id, event_time);

CREATE FUNCTION vigil_attach_case() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    found_case  bigint;
    window_len  interval;
    severities  constant text[] := ARRAY['low', 'medium', 'high', 'critical'];
BEGIN
    IF NEW.case_id IS NOT NULL THEN
        RETURN NEW;
    END IF;
    -- Two writers with alerts of one account never open two cases for it.
    PERFORM pg_advisory_xact_lock(hashtextextended('vigil.case:' || NEW.account_id, 0));
    SELECT group_window INTO window_len FROM case_settings;
    SELECT id INTO found_case FROM cases
     WHERE account_id = NEW.account_id AND status <> 'closed'
       AND last_alert_at >= NEW.created_at - coalesce(window_len, interval '24 hours')
     ORDER BY last_alert_at DESC, id DESC LIMIT 1
     FOR UPDATE;
    IF found_case IS NULL THEN
        INSERT INTO cases (account_id, severity, max_score, alert_count, last_alert_at, opened_at, updated_at)
        VALUES (NEW.account_id, NEW.severity, NEW.total_score, 1, NEW.created_at, NEW.created_at, NEW.created_at)
        RETURNING id INTO found_case;
        INSERT INTO case_events (case_id, at, actor, kind, to_value, alert_id)
        VALUES (found_case, NEW.created_at, 'vigil', 'opened', 'open', NEW.id);
    ELSE
        UPDATE cases
           SET alert_count = alert_count + 1,
               last_alert_at = greatest(last_alert_at, NEW.created_at),
               max_score = greatest(max_score, NEW.total_score),
               severity = CASE WHEN array_position(severities, NEW.severity) > array_position(severities, severity)
                               THEN NEW.severity ELSE severity END,
               updated_at = NEW.created_at,
               revision = revision + 1
         WHERE id = found_case;
        INSERT INTO case_events (case_id, at, actor, kind, alert_id)
        VALUES (found_case, NEW.created_at, 'vigil', 'alert_added', NEW.id);
    END IF;
    NEW.case_id := found_case;
    RETURN NEW;
END $$;
CREATE TRIGGER alerts_attach_case BEFORE INSERT ON alerts FOR EACH ROW EXECUTE FUNCTION vigil_attach_case();

-- Alerts raised before this migration get a case each (grouped by the same rule would
-- need their order; one case per alert is the honest default for history).
DO $$
DECLARE
    a record;
    new_case bigint;
BEGIN
    FOR a IN SELECT id, account_id, severity, total_score, created_at FROM alerts WHERE case_id IS NULL ORDER BY id LOOP
        INSERT INTO cases (account_id, severity, max_score, alert_count, last_alert_at, opened_at, updated_at)
        VALUES (a.account_id, a.severity, a.total_score, 1, a.created_at, a.created_at, a.created_at)
        RETURNING id INTO new_case;
        INSERT INTO case_events (case_id, at, actor, kind, to_value, alert_id)
        VALUES (new_case, a.created_at, 'vigil', 'opened', 'open', a.id);
        UPDATE alerts SET case_id = new_case WHERE id = a.id;
    END LOOP;
END $$;

-- The labels investigators gave: one row per alert of a closed case, for `vigil feed
-- score`, backtests, per-rule precision and `vigil cases export`.
CREATE VIEW dispositions AS
SELECT a.id AS alert_id, a.transaction_id, a.account_id, c.id AS case_id, c.disposition,
       c.disposition_reason AS reason, c.disposed_by, c.disposed_at
  FROM alerts a JOIN cases c ON c.id = a.case_id
 WHERE c.disposition IS NOT NULL;

-- Lifecycle webhooks (case.updated, alert.disposed) share the outbox: a case event has no
-- single alert, and one alert has several events, so alert_id becomes optional and the
-- uniqueness that makes a replay idempotent applies to alert.created only.
ALTER TABLE webhook_outbox ALTER COLUMN alert_id DROP NOT NULL;
ALTER TABLE webhook_outbox ADD COLUMN case_id bigint REFERENCES cases (id);
ALTER TABLE webhook_outbox DROP CONSTRAINT webhook_outbox_alert_id_endpoint_id_key;
CREATE UNIQUE INDEX webhook_outbox_alert_created ON webhook_outbox (alert_id, endpoint_id) WHERE event_type = 'alert.created';
