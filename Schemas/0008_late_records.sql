-- Records dated more than the allowed lateness before their account's newest
-- transaction are stored but kept out of windows and profiles (docs/rules-language.md,
-- "Late records"); the flag lets the start-up rebuild leave them out the same way.
-- A constant default adds the column without rewriting the table.
ALTER TABLE transactions ADD COLUMN late boolean NOT NULL DEFAULT false;
