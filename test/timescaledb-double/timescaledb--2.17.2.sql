-- TEST DOUBLE: NOT TimescaleDB. See timescaledb.control.
CREATE SCHEMA _timescaledb_double;

CREATE TABLE _timescaledb_double.hypertables (
    hypertable     regclass PRIMARY KEY,
    column_name    name     NOT NULL,
    chunk_interval interval
);

CREATE TYPE _timescaledb_double.dimension_info AS (column_name name, chunk_interval interval);

CREATE FUNCTION by_range(column_name name, partition_interval anyelement DEFAULT NULL::interval, partition_func regproc DEFAULT NULL)
RETURNS _timescaledb_double.dimension_info
LANGUAGE sql IMMUTABLE AS $$ SELECT ROW(column_name, partition_interval::text::interval)::_timescaledb_double.dimension_info $$;

CREATE FUNCTION create_hypertable(
    relation regclass,
    dimension _timescaledb_double.dimension_info,
    create_default_indexes boolean DEFAULT true,
    if_not_exists boolean DEFAULT false,
    migrate_data boolean DEFAULT false
) RETURNS TABLE (hypertable_id integer, created boolean)
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                   WHERE attrelid = relation AND attname = (dimension).column_name AND NOT attisdropped) THEN
        RAISE EXCEPTION 'column "%" does not exist in %', (dimension).column_name, relation;
    END IF;
    IF EXISTS (SELECT 1 FROM _timescaledb_double.hypertables h WHERE h.hypertable = relation) THEN
        IF if_not_exists THEN
            RAISE NOTICE 'table "%" is already a hypertable, skipping', relation;
            RETURN QUERY SELECT 1, false;
            RETURN;
        END IF;
        RAISE EXCEPTION 'table "%" is already a hypertable', relation;
    END IF;
    INSERT INTO _timescaledb_double.hypertables VALUES (relation, (dimension).column_name, (dimension).chunk_interval);
    RETURN QUERY SELECT 1, true;
END $$;

CREATE SCHEMA timescaledb_information;
CREATE VIEW timescaledb_information.hypertables AS
    SELECT n.nspname AS hypertable_schema, c.relname AS hypertable_name
    FROM _timescaledb_double.hypertables h
    JOIN pg_class c ON c.oid = h.hypertable
    JOIN pg_namespace n ON n.oid = c.relnamespace;
