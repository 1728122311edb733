-- Trust boundaries (issue 14): secrets sealed at rest, and which feed connection said what.

-- Webhook signing secrets are stored sealed (AES-256-GCM under the operator's key, see
-- docs/security.md): `v1:<key id>:<base64>`. The plaintext columns stay only so that rows
-- written before this migration can be sealed by `vigil secrets encrypt-existing`, which
-- empties them; `vigil serve` refuses to start while any plaintext secret is left.
ALTER TABLE webhook_endpoints
    ALTER COLUMN secret DROP NOT NULL,
    ADD COLUMN secret_sealed text,
    ADD COLUMN previous_secret_sealed text,
    ADD CONSTRAINT webhook_endpoints_has_secret CHECK (secret IS NOT NULL OR secret_sealed IS NOT NULL);

-- One row per feed connection that sent at least one line: who it was (remote address,
-- and with mutual TLS the client certificate's subject) and when it connected.
CREATE TABLE feed_sessions (
    id            bigint PRIMARY KEY,      -- assigned by the listener, unique per process start
    peer          text NOT NULL,           -- remote address
    subject       text,                    -- client certificate subject (mutual TLS), else NULL
    transport     text NOT NULL CHECK (transport IN ('tcp', 'tls', 'mtls')),
    connected_at  timestamptz NOT NULL
);
CREATE INDEX feed_sessions_connected_at ON feed_sessions (connected_at);

-- The session each transaction came in on. Nullable, no default: added without a rewrite.
-- Filled by the batch writer's COPY row (one more column); NULL for older rows.
ALTER TABLE transactions ADD COLUMN feed_session bigint;
