-- A race number is worn by one entry per event.
-- Post-schema: entries is created by the Directus schema apply, so this runs after it.
-- Directus snapshots record only single-column uniques, hence SQL. Guarded: a re-run is harmless.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint
        WHERE conrelid = 'entries'::regclass AND conname = 'entries_event_id_race_number_unique'
    ) THEN
        ALTER TABLE entries ADD CONSTRAINT entries_event_id_race_number_unique UNIQUE (event_id, race_number);
    END IF;
END
$$;
