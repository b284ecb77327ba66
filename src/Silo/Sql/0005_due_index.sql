-- The due-time index: when each member next has a notice due (points expiring in 60 days, a plan ending
-- in 7). One row per member; a few sweeper grains, one per shard, read the due ones.
create table if not exists member_due (
    member_key text        primary key,
    shard      smallint    not null,
    due_at     timestamptz not null
);
create index if not exists member_due_by_shard on member_due (shard, due_at);

-- Notices that fired, so each fires once (per bucket, per plan end).
create table if not exists member_notice_fired (
    member_key text        not null,
    notice_key text        not null,
    fired_at   timestamptz not null default now(),
    primary key (member_key, notice_key)
);
