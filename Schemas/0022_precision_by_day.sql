-- The console's rules page draws each rule's precision per day over 30 days from the
-- disposed cases whose alerts fall in that window (Sources/Console/RuleStats+Precision.swift).
-- Without this index that read is a scan of every case ever opened, on each view of the
-- page; with it, a range of the disposed ones, a number bounded by what investigators
-- close. On a test database of 400,000 cases (1,334 disposed in the window) the query
-- took 87 ms instead of 205 ms, and the gap grows with the table.
-- Cost on the feed's path: none that was not already paid. Only closed cases are in the
-- index, and a closed case takes no more alerts; the trigger's updates of an open case's
-- `last_alert_at` were already not HOT (cases_open_by_account indexes that column).
CREATE INDEX cases_disposed_last_alert ON cases (last_alert_at) WHERE disposition IS NOT NULL;
