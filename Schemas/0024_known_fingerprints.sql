-- Account profiles keep the devices, cards, countries and merchants an account has used
-- as 62-bit fingerprints of their ids, not the ids (issue 16: a quarter of the memory per
-- account; see KnownEntities and docs/detection.md, "Profile size").
--
-- `known_devices`, `known_cards`, `known_countries` and `known_merchants` stay text
-- arrays, least recently used first. A profile saved from now on holds each fingerprint
-- as 16 lowercase hex digits and says so here; a profile saved before holds the ids
-- themselves, which are fingerprinted when it is loaded. Nothing is rewritten: the next
-- checkpoint of each account saves it in the new form.
ALTER TABLE account_profiles ADD COLUMN known_fingerprints boolean NOT NULL DEFAULT false;
