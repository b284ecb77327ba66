-- 0002: Orleans grain state (Microsoft.Orleans.Persistence.AdoNet 10.4.x, invariant Npgsql).
--
-- The member grain's snapshots land here; the ledger (0004) is the authority, so a lost or stale
-- snapshot costs a longer replay, never data.
-- The provider identifies a grain by ServiceId, grain type string, two 64-bit key halves (GrainIdN0,
-- GrainIdN1) and an optional string key (GrainIdExtensionString); it also sends two 32-bit hashes,
-- kept for diagnostics. One row per grain and state, with an integer version as the ETag.
-- NULLS NOT DISTINCT (PostgreSQL 15+) makes "no string key" one value, so the key is truly unique.

CREATE TABLE IF NOT EXISTS orleans_storage
(
    service_id                varchar(150) NOT NULL,
    grain_type_string         varchar(512) NOT NULL,
    grain_id_n0               bigint       NOT NULL,
    grain_id_n1               bigint       NOT NULL,
    grain_id_extension_string varchar(512) NULL,
    grain_id_hash             integer      NOT NULL,
    grain_type_hash           integer      NOT NULL,
    payload_binary            bytea        NULL,
    version                   integer      NOT NULL,
    modified_on               timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT orleans_storage_grain UNIQUE NULLS NOT DISTINCT
        (service_id, grain_type_string, grain_id_n0, grain_id_n1, grain_id_extension_string)
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- Zero or one row: the payload (null after a clear) and the version.
('ReadFromStorageKey', $q$
    SELECT payload_binary AS "PayloadBinary", version AS "Version"
    FROM orleans_storage
    WHERE service_id = @ServiceId AND grain_type_string = @GrainTypeString
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_id_extension_string IS NOT DISTINCT FROM @GrainIdExtensionString;
$q$),

-- Optimistic write. No version (@GrainStateVersion null): the first write, inserts version 1 unless
-- a row exists. A version: updates only if the stored version still equals it. Returns the new
-- version, or no row on a conflict (the provider then raises InconsistentStateException).
('WriteToStorageKey', $q$
    WITH updated AS (
        UPDATE orleans_storage
        SET payload_binary = @PayloadBinary, version = version + 1, modified_on = now(),
            grain_id_hash = @GrainIdHash, grain_type_hash = @GrainTypeHash
        WHERE @GrainStateVersion IS NOT NULL
          AND service_id = @ServiceId AND grain_type_string = @GrainTypeString
          AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
          AND grain_id_extension_string IS NOT DISTINCT FROM @GrainIdExtensionString
          AND version = @GrainStateVersion
        RETURNING version
    ), inserted AS (
        INSERT INTO orleans_storage
            (service_id, grain_type_string, grain_id_n0, grain_id_n1, grain_id_extension_string,
             grain_id_hash, grain_type_hash, payload_binary, version)
        SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString,
               @GrainIdHash, @GrainTypeHash, @PayloadBinary, 1
        WHERE @GrainStateVersion IS NULL
        ON CONFLICT ON CONSTRAINT orleans_storage_grain DO NOTHING
        RETURNING version
    )
    SELECT version AS "NewGrainStateVersion" FROM updated
    UNION ALL
    SELECT version FROM inserted;
$q$),

-- Clear keeps the row (payload null) and bumps the version, so the ETag keeps moving forward.
('ClearStorageKey', $q$
    UPDATE orleans_storage
    SET payload_binary = NULL, version = version + 1, modified_on = now()
    WHERE service_id = @ServiceId AND grain_type_string = @GrainTypeString
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_id_extension_string IS NOT DISTINCT FROM @GrainIdExtensionString
      AND version = @GrainStateVersion
    RETURNING version AS "NewGrainStateVersion";
$q$),

-- Optional key, used when the storage is configured with DeleteStateOnClear = true.
('DeleteStorageKey', $q$
    DELETE FROM orleans_storage
    WHERE service_id = @ServiceId AND grain_type_string = @GrainTypeString
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_id_extension_string IS NOT DISTINCT FROM @GrainIdExtensionString
      AND version = @GrainStateVersion
    RETURNING version + 1 AS "NewGrainStateVersion";
$q$)

ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
