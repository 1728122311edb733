-- High availability (issue 21): one leadership lease for the `vigil serve --ha` nodes
-- sharing this database.
--
-- Exactly one row. A node becomes leader by taking the row once `expires_at` has passed
-- (by the database's clock, so every node agrees), which increments `epoch`; the leader
-- renews `expires_at` about every second. `epoch` with `holder` is the fencing token:
-- the writer's batch transaction locks the row FOR SHARE and checks both (and that the
-- lease has not expired) before it commits, so a node that lost the lease can commit
-- nothing more, and a takeover waits for a batch already past that check to commit.

CREATE TABLE leader_lease (
    id           smallint PRIMARY KEY CHECK (id = 1),
    holder       text NOT NULL,                 -- node/pid/nonce of the leader ('' when none yet)
    epoch        bigint NOT NULL,               -- incremented on every takeover
    expires_at   timestamptz NOT NULL,          -- the leader must renew before this
    acquired_at  timestamptz,                   -- when this epoch began
    feed_address text NOT NULL DEFAULT ''       -- where the leader's feed listens (host:port), for standbys to point clients at
);

INSERT INTO leader_lease (id, holder, epoch, expires_at) VALUES (1, '', 0, '-infinity');
