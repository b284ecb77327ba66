-- The member ledger: one row per applied change, keyed by member and seq. The whole entry is kept as
-- JSON (its effects replay the member); the columns beside it are what queries and operators need.
create table if not exists member_ledger (
    member_key  text        not null,
    seq         bigint      not null,
    event_id    text        null,
    kind        text        not null,
    occurred_at timestamptz not null,
    recorded_at timestamptz not null,
    points      bigint      not null,
    growth      bigint      not null,
    entry       jsonb       not null,
    primary key (member_key, seq)
);

-- A caller id is applied once per member, forever: the database refuses a second row with it.
create unique index if not exists member_ledger_event_id on member_ledger (member_key, event_id) where event_id is not null;
