-- A person is on an entry's crew once.
-- Post-schema: entry_crew is created by the Directus schema apply, so this runs after it.
-- Directus snapshots record only single-column uniques, hence SQL. Guarded: a re-run is harmless.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint
        WHERE conrelid = 'entry_crew'::regclass AND conname = 'entry_crew_entry_id_user_id_unique'
    ) THEN
        ALTER TABLE entry_crew ADD CONSTRAINT entry_crew_entry_id_user_id_unique UNIQUE (entry_id, user_id);
    END IF;
END
$$;
