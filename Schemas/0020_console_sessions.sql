-- The investigator console's sign-in sessions (issue 19).
--
-- An API token is exchanged once for a session: the browser keeps a random session id in
-- an HttpOnly cookie, the database keeps only its SHA-256 digest (like api_tokens), so a
-- copy of this table signs no one in. A session lives no longer than its token: it is
-- valid only while the token it came from exists, is not revoked and has not expired
-- (checked by a join on every request), so revoking the token ends its sessions too.
-- Sessions survive a restart of vigil serve; sign-out deletes the row.
CREATE TABLE console_sessions (
    id            bigserial PRIMARY KEY,
    digest        text NOT NULL UNIQUE,        -- SHA-256 (hex) of the session id in the cookie
    token_digest  text NOT NULL REFERENCES api_tokens (digest) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    remote_address text
);
-- Expired sessions are deleted at each sign-in (a range scan on this index).
CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at);

-- The console's queue orders alerts by severity, highest first, then newest: the rank is
-- an immutable function so an index can serve that order and its keyset pagination.
CREATE FUNCTION vigil_severity_rank(severity text) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE severity WHEN 'critical' THEN 3 WHEN 'high' THEN 2 WHEN 'medium' THEN 1 ELSE 0 END
$$;
CREATE INDEX alerts_console_queue ON alerts (vigil_severity_rank(severity) DESC, id DESC);

-- The console's rules page and queue filter count hits of the last 24 hours and 7 days:
-- a BRIN index on the time serves those ranges for almost no insert cost (rows arrive in
-- time order), where the (rule_id, created_at) index would be read whole.
CREATE INDEX rule_hits_created_at_brin ON rule_hits USING brin (created_at);
