-- Four-eyes promotion of rulesets (issue 18): a candidate ruleset is proposed with its
-- check, test and backtest results; a second person with the admin role approves it, and
-- only then does `vigil serve --four-eyes` make it live. The proposer can never be the
-- one who decides (the CHECK below holds even against a hand-written UPDATE).

CREATE TABLE ruleset_proposals (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version            text NOT NULL,      -- the ruleset version the files compile to (rs-…)
    base_version       text,               -- the version live (or approved, not yet live) when proposed
    files              jsonb NOT NULL,     -- every file of the proposed folder by relative path: rules, lists, tests
    message            text NOT NULL,
    proposed_by        text NOT NULL,      -- a token's name, or cli:<user> / --author (unverified)
    proposer_verified  boolean NOT NULL,   -- true when the proposer presented a token
    proposed_at        timestamptz NOT NULL DEFAULT now(),
    checks             jsonb NOT NULL,     -- rules, warnings, tests passed/failed, untested rules
    backtest           jsonb,              -- the backtest summary against the live run; NULL when none was run
    status             text NOT NULL DEFAULT 'proposed'
                       CHECK (status IN ('proposed', 'approved', 'rejected', 'withdrawn', 'superseded')),
    decided_by         text,               -- the approving or rejecting admin token's name
    decided_at         timestamptz,
    decision_note      text,               -- why it was rejected, or what superseded it
    activated_at       timestamptz,        -- when a --four-eyes server made it live
    activation_error   text,               -- why a server refused it at activation (the live ruleset stayed)
    CHECK (decided_by IS NULL OR decided_by <> proposed_by),
    CHECK ((status = 'proposed') = (decided_at IS NULL))
);
CREATE INDEX ruleset_proposals_open ON ruleset_proposals (status) WHERE status IN ('proposed', 'approved');

-- A ruleset can now go live by approval: the activation records it.
-- (ruleset_activations.how already allows 'approval', see 0016.)
