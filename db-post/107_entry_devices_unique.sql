-- A device is attached to an entry once.
-- Post-schema: entry_devices is created by the Directus schema apply, so this runs after it.
-- Directus snapshots record only single-column uniques, hence SQL. Guarded: a re-run is harmless.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint
        WHERE conrelid = 'entry_devices'::regclass AND conname = 'entry_devices_entry_id_device_id_unique'
    ) THEN
        ALTER TABLE entry_devices ADD CONSTRAINT entry_devices_entry_id_device_id_unique UNIQUE (entry_id, device_id);
    END IF;
END
$$;
