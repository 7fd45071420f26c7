-- A user belongs to an organization once (one membership row, carrying the role).
-- Post-schema: organization_users is created by the Directus schema apply, so this runs after it.
-- Directus snapshots record only single-column uniques, hence SQL. Guarded: a re-run is harmless.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint
        WHERE conrelid = 'organization_users'::regclass AND conname = 'organization_users_organization_id_user_id_unique'
    ) THEN
        ALTER TABLE organization_users ADD CONSTRAINT organization_users_organization_id_user_id_unique UNIQUE (organization_id, user_id);
    END IF;
END
$$;
