-- Distance and speed from the previous transaction must use the time of the previous
-- transaction *that had a location*: an online purchase in between must not shorten
-- the travel time and make a real trip look impossible.
ALTER TABLE account_profiles ADD COLUMN last_located_at timestamptz;
