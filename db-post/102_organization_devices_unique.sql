-- A device is registered to an organization once.
-- Post-schema: organization_devices is created by the Directus schema apply, so this runs after it.
-- Directus snapshots record only single-column uniques, hence SQL. Guarded: a re-run is harmless.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint
        WHERE conrelid = 'organization_devices'::regclass AND conname = 'organization_devices_organization_id_device_id_unique'
    ) THEN
        ALTER TABLE organization_devices ADD CONSTRAINT organization_devices_organization_id_device_id_unique UNIQUE (organization_id, device_id);
    END IF;
END
$$;
