-- 0001: the Orleans query catalog and cluster membership (Microsoft.Orleans.Clustering.AdoNet 10.4.x, invariant Npgsql).
--
-- The ADO.NET providers know no table names: at start they run
--     SELECT QueryKey, QueryText FROM OrleansQuery
-- and execute the stored text with named parameters (@DeploymentId, ...). So the catalog table
-- name and its two columns are fixed; everything else here is ours. Column aliases in the
-- queries are the names the provider reads from the result (it looks them up by name).
-- Idempotent: every object is created only if missing and every query row is upserted, so a
-- re-run (or a later script replacing a query) is safe.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL PRIMARY KEY,
    QueryText text        NOT NULL
);

-- One row per cluster (Orleans calls it DeploymentId): the membership table version every
-- conditional write checks and bumps.
CREATE TABLE IF NOT EXISTS orleans_membership_version
(
    deployment_id varchar(150) NOT NULL PRIMARY KEY,
    version       integer      NOT NULL DEFAULT 0,
    updated_at    timestamptz  NOT NULL DEFAULT now()
);

-- One row per silo incarnation (address, port, generation).
CREATE TABLE IF NOT EXISTS orleans_membership
(
    deployment_id   varchar(150)  NOT NULL REFERENCES orleans_membership_version (deployment_id),
    address         varchar(45)   NOT NULL,
    port            integer       NOT NULL,
    generation      integer       NOT NULL,
    silo_name       varchar(150)  NOT NULL,
    host_name       varchar(150)  NOT NULL,
    status          integer       NOT NULL,
    proxy_port      integer       NULL,
    suspect_times   varchar(8000) NULL,
    start_time      timestamptz   NOT NULL,
    i_am_alive_time timestamptz   NOT NULL,
    PRIMARY KEY (deployment_id, address, port, generation)
);

-- Orleans SiloStatus values used below: 3 = Active, 6 = Dead.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- Creates the version row if missing. One row, one boolean column: true if this call inserted it.
('InsertMembershipVersionKey', $q$
    WITH inserted AS (
        INSERT INTO orleans_membership_version (deployment_id)
        VALUES (@DeploymentId)
        ON CONFLICT (deployment_id) DO NOTHING
        RETURNING 1
    )
    SELECT count(*) > 0 FROM inserted;
$q$),

-- Adds a silo row if the table version still equals @Version and the row does not exist yet;
-- bumps the version in the same statement. Either both happen or neither (one statement).
('InsertMembershipKey', $q$
    WITH bumped AS (
        UPDATE orleans_membership_version
        SET version = version + 1, updated_at = now()
        WHERE deployment_id = @DeploymentId
          AND version = @Version
          AND NOT EXISTS (
              SELECT 1 FROM orleans_membership
              WHERE deployment_id = @DeploymentId AND address = @Address
                AND port = @Port AND generation = @Generation)
        RETURNING deployment_id
    ), inserted AS (
        INSERT INTO orleans_membership
            (deployment_id, address, port, generation, silo_name, host_name, status,
             proxy_port, start_time, i_am_alive_time)
        SELECT deployment_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status,
               @ProxyPort, @StartTime, @IAmAliveTime
        FROM bumped
        RETURNING 1
    )
    SELECT count(*) > 0 FROM inserted;
$q$),

-- Changes a silo row if the table version still equals @Version; bumps the version with it.
('UpdateMembershipKey', $q$
    WITH bumped AS (
        UPDATE orleans_membership_version
        SET version = version + 1, updated_at = now()
        WHERE deployment_id = @DeploymentId
          AND version = @Version
          AND EXISTS (
              SELECT 1 FROM orleans_membership
              WHERE deployment_id = @DeploymentId AND address = @Address
                AND port = @Port AND generation = @Generation)
        RETURNING deployment_id
    ), changed AS (
        UPDATE orleans_membership m
        SET status = @Status, suspect_times = @SuspectTimes, i_am_alive_time = @IAmAliveTime
        FROM bumped b
        WHERE m.deployment_id = b.deployment_id AND m.address = @Address
          AND m.port = @Port AND m.generation = @Generation
        RETURNING 1
    )
    SELECT count(*) > 0 FROM changed;
$q$),

-- Heartbeat: not versioned, result not read.
('UpdateIAmAlivetimeKey', $q$
    UPDATE orleans_membership
    SET i_am_alive_time = @IAmAliveTime
    WHERE deployment_id = @DeploymentId AND address = @Address
      AND port = @Port AND generation = @Generation;
$q$),

-- The version row, joined with the one silo row if it exists (the version comes back even when not).
('MembershipReadRowKey', $q$
    SELECT v.deployment_id   AS "DeploymentId",
           m.address         AS "Address",
           m.port            AS "Port",
           m.generation      AS "Generation",
           m.silo_name       AS "SiloName",
           m.host_name       AS "HostName",
           m.status          AS "Status",
           m.proxy_port      AS "ProxyPort",
           m.suspect_times   AS "SuspectTimes",
           m.start_time      AS "StartTime",
           m.i_am_alive_time AS "IAmAliveTime",
           v.version         AS "Version"
    FROM orleans_membership_version v
    LEFT JOIN orleans_membership m
        ON m.deployment_id = v.deployment_id AND m.address = @Address
       AND m.port = @Port AND m.generation = @Generation
    WHERE v.deployment_id = @DeploymentId;
$q$),

-- The version row with every silo row of the cluster.
('MembershipReadAllKey', $q$
    SELECT v.deployment_id   AS "DeploymentId",
           m.address         AS "Address",
           m.port            AS "Port",
           m.generation      AS "Generation",
           m.silo_name       AS "SiloName",
           m.host_name       AS "HostName",
           m.status          AS "Status",
           m.proxy_port      AS "ProxyPort",
           m.suspect_times   AS "SuspectTimes",
           m.start_time      AS "StartTime",
           m.i_am_alive_time AS "IAmAliveTime",
           v.version         AS "Version"
    FROM orleans_membership_version v
    LEFT JOIN orleans_membership m ON m.deployment_id = v.deployment_id
    WHERE v.deployment_id = @DeploymentId;
$q$),

('DeleteMembershipTableEntriesKey', $q$
    DELETE FROM orleans_membership WHERE deployment_id = @DeploymentId;
    DELETE FROM orleans_membership_version WHERE deployment_id = @DeploymentId;
$q$),

-- Gateways for clients: silos with the given status (Active) that listen for clients.
('GatewaysQueryKey', $q$
    SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
    FROM orleans_membership
    WHERE deployment_id = @DeploymentId AND status = @Status AND proxy_port > 0;
$q$),

-- Bulk cleanup, used only when 'CleanupDefunctSiloEntryKey' is absent: dead silos that started
-- and last reported before the cut-off and carry no suspicion votes.
('CleanupDefunctSiloEntriesKey', $q$
    DELETE FROM orleans_membership
    WHERE deployment_id = @DeploymentId AND status = 6
      AND i_am_alive_time < @IAmAliveTime AND start_time < @IAmAliveTime
      AND coalesce(suspect_times, '') = '';
$q$),

-- Per-row cleanup (optional key; 10.4 prefers it): the provider picks the dead rows itself and
-- deletes each only if it still holds the values it read, so a concurrent change wins.
('CleanupDefunctSiloEntryKey', $q$
    DELETE FROM orleans_membership
    WHERE deployment_id = @DeploymentId AND status = 6
      AND address = @Address AND port = @Port AND generation = @Generation
      AND start_time = @StartTime AND i_am_alive_time = @IAmAliveTime
      AND coalesce(suspect_times, '') = coalesce(@SuspectTimes, '');
$q$)

ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
