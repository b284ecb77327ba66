-- 0006: grain state found by its whole key through the index.
--
-- Members are string-keyed grains: the provider sends GrainIdN0 = GrainIdN1 = 0 and the member's key as
-- GrainIdExtensionString. 0002 matched that column with IS NOT DISTINCT FROM, which PostgreSQL cannot
-- look up in an index, so every snapshot read, write and clear walked the index entries of every member
-- with a snapshot: a node's activations got slower with every member the database had seen. "No string
-- key" is now stored as '' (never a real key: the provider sends null for it), the column is NOT NULL,
-- and the queries compare with =, which the unique key's index answers in one probe.

UPDATE orleans_storage SET grain_id_extension_string = '' WHERE grain_id_extension_string IS NULL;
ALTER TABLE orleans_storage
    ALTER COLUMN grain_id_extension_string SET DEFAULT '',
    ALTER COLUMN grain_id_extension_string SET NOT NULL;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

('ReadFromStorageKey', $q$
    SELECT payload_binary AS "PayloadBinary", version AS "Version"
    FROM orleans_storage
    WHERE service_id = @ServiceId AND grain_type_string = @GrainTypeString
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_id_extension_string = coalesce(@GrainIdExtensionString, '');
$q$),

('WriteToStorageKey', $q$
    WITH updated AS (
        UPDATE orleans_storage
        SET payload_binary = @PayloadBinary, version = version + 1, modified_on = now(),
            grain_id_hash = @GrainIdHash, grain_type_hash = @GrainTypeHash
        WHERE @GrainStateVersion IS NOT NULL
          AND service_id = @ServiceId AND grain_type_string = @GrainTypeString
          AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
          AND grain_id_extension_string = coalesce(@GrainIdExtensionString, '')
          AND version = @GrainStateVersion
        RETURNING version
    ), inserted AS (
        INSERT INTO orleans_storage
            (service_id, grain_type_string, grain_id_n0, grain_id_n1, grain_id_extension_string,
             grain_id_hash, grain_type_hash, payload_binary, version)
        SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, coalesce(@GrainIdExtensionString, ''),
               @GrainIdHash, @GrainTypeHash, @PayloadBinary, 1
        WHERE @GrainStateVersion IS NULL
        ON CONFLICT ON CONSTRAINT orleans_storage_grain DO NOTHING
        RETURNING version
    )
    SELECT version AS "NewGrainStateVersion" FROM updated
    UNION ALL
    SELECT version FROM inserted;
$q$),

('ClearStorageKey', $q$
    UPDATE orleans_storage
    SET payload_binary = NULL, version = version + 1, modified_on = now()
    WHERE service_id = @ServiceId AND grain_type_string = @GrainTypeString
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_id_extension_string = coalesce(@GrainIdExtensionString, '')
      AND version = @GrainStateVersion
    RETURNING version AS "NewGrainStateVersion";
$q$),

('DeleteStorageKey', $q$
    DELETE FROM orleans_storage
    WHERE service_id = @ServiceId AND grain_type_string = @GrainTypeString
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_id_extension_string = coalesce(@GrainIdExtensionString, '')
      AND version = @GrainStateVersion
    RETURNING version + 1 AS "NewGrainStateVersion";
$q$)

ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
