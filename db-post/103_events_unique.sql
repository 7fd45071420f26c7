-- Event slugs are unique within their organization (e.g. msc-albania/rally-albania-2026).
-- Post-schema: events is created by the Directus schema apply, so this runs after it.
-- Directus snapshots record only single-column uniques, hence SQL. Guarded: a re-run is harmless.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint
        WHERE conrelid = 'events'::regclass AND conname = 'events_organization_id_slug_unique'
    ) THEN
        ALTER TABLE events ADD CONSTRAINT events_organization_id_slug_unique UNIQUE (organization_id, slug);
    END IF;
END
$$;
