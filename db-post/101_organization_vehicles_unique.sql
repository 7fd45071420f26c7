-- A vehicle is registered to an organization once.
-- Post-schema: organization_vehicles is created by the Directus schema apply, so this runs after it.
-- Directus snapshots record only single-column uniques, hence SQL. Guarded: a re-run is harmless.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint
        WHERE conrelid = 'organization_vehicles'::regclass AND conname = 'organization_vehicles_organization_id_vehicle_id_unique'
    ) THEN
        ALTER TABLE organization_vehicles ADD CONSTRAINT organization_vehicles_organization_id_vehicle_id_unique UNIQUE (organization_id, vehicle_id);
    END IF;
END
$$;
