-- API tokens and the audit log (issue 14).
--
-- A token is shown once at creation; only its SHA-256 digest (hex) is stored. Tokens are
-- 32 random bytes, so a fast unsalted digest is enough: there is nothing to brute-force
-- that is cheaper than guessing the token itself (see docs/security.md).
-- A name is unique among the tokens not revoked: a revoked token keeps its row (and its
-- name in the audit log) and the name can be given to its replacement.
CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
    digest       text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- Every admin action, by whom (a token's name, or 'cli:<user>'), on what, from where.
CREATE TABLE audit_log (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor          text NOT NULL,
    action         text NOT NULL,
    target         text,
    detail         jsonb NOT NULL DEFAULT '{}'::jsonb,
    remote_address text
);
CREATE INDEX audit_log_at ON audit_log (at);
