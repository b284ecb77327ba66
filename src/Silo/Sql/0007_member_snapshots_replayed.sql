-- 0007: every member replays its ledger once.
--
-- Earlier builds folded a new member's empty state on activation, before its first entry enrolled it, and
-- kept the resulting growth checkpoint: its tier then started in year 1 (the summary's tier "since").
-- Snapshots are an optimization (the ledger is the authority), so all member snapshots are dropped: each
-- member's next activation rebuilds it from its ledger rows, without that checkpoint.

DELETE FROM orleans_storage WHERE grain_type_string = 'member';
