-- Class codes (M-1, Q-2, ...) are unique within their event.
-- Post-schema: classes is created by the Directus schema apply, so this runs after it.
-- Directus snapshots record only single-column uniques, hence SQL. Guarded: a re-run is harmless.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint
        WHERE conrelid = 'classes'::regclass AND conname = 'classes_event_id_code_unique'
    ) THEN
        ALTER TABLE classes ADD CONSTRAINT classes_event_id_code_unique UNIQUE (event_id, code);
    END IF;
END
$$;
