-- TEST DOUBLE: not TimescaleDB.
--
-- Installed as extension "timescaledb" version 2.17.2 into the unit tests' embedded
-- PostgreSQL 16 (which has no TimescaleDB) by tools/harness/machine-setup.ts, and into the
-- offline stand-in database image (offline/standins/README.md): no registry serves a
-- TimescaleDB server build. Real TimescaleDB SQL is tested on PGlite's TimescaleDB build.
-- It mimics just enough of TimescaleDB 2.17's SQL surface for schema migrations
-- to run unchanged:
--   by_range(column_name NAME, partition_interval ANYELEMENT = NULL, partition_func REGPROC = NULL)
--   create_hypertable(relation REGCLASS, dimension _timescaledb_internal.dimension_info,
--                     create_default_indexes BOOLEAN = TRUE, if_not_exists BOOLEAN = FALSE,
--                     migrate_data BOOLEAN = FALSE)
--   create_hypertable(relation, time_column_name, ..., chunk_time_interval, ...)  (the old API)
--   alter_job(job_id, ..., scheduled, ...)                                       (a no-op)
--   views timescaledb_information.hypertables and timescaledb_information.dimensions
-- A "hypertable" stays a plain table: no chunks, no partitioning, no compression,
-- no background jobs. Every call is recorded so tests can see that it happened:
--   _timescaledb_double.hypertables  one row per table turned into a "hypertable"
--   _timescaledb_double.calls        one row per create_hypertable/alter_job call
-- Checks that real TimescaleDB makes and this double repeats: the table must be a
-- regular table, the column must exist and be a time or integer type, the table must
-- be empty unless migrate_data => true, every unique index must include the
-- partitioning column, and a second call fails unless if_not_exists => true.
-- Like TimescaleDB it sets NOT NULL on the partitioning column and, with
-- create_default_indexes, adds "<table>_<column>_idx" (column DESC) when no index
-- starts with that column.

\echo Use "CREATE EXTENSION timescaledb" to load this file. \quit

CREATE SCHEMA _timescaledb_internal;
CREATE SCHEMA _timescaledb_functions;
CREATE SCHEMA _timescaledb_double;
CREATE SCHEMA timescaledb_information;
COMMENT ON SCHEMA _timescaledb_double IS 'TEST DOUBLE: not TimescaleDB. Records of the calls made to the timescaledb test double.';
GRANT USAGE ON SCHEMA _timescaledb_internal, _timescaledb_functions, _timescaledb_double, timescaledb_information TO PUBLIC;

-- What by_range() returns and create_hypertable() takes (a C type in TimescaleDB).
CREATE TYPE _timescaledb_internal.dimension_info AS (
    column_name        NAME,
    dimension_type     TEXT,     -- 'range'
    partition_interval TEXT,     -- the interval as given, as text; NULL = default
    interval_type      REGTYPE,  -- type of the interval as given
    partition_func     REGPROC
);

CREATE TABLE _timescaledb_double.hypertables (
    id             SERIAL PRIMARY KEY,
    relid          OID         NOT NULL UNIQUE,
    table_schema   NAME        NOT NULL,
    table_name     NAME        NOT NULL,
    column_name    NAME        NOT NULL,
    column_type    REGTYPE     NOT NULL,
    chunk_interval TEXT        NOT NULL,  -- e.g. '1 day', or an integer for integer columns
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
COMMENT ON TABLE _timescaledb_double.hypertables IS 'TEST DOUBLE: not TimescaleDB. One row per table passed to create_hypertable().';

CREATE TABLE _timescaledb_double.calls (
    id             BIGSERIAL PRIMARY KEY,
    called_at      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    function_name  TEXT        NOT NULL,
    table_name     TEXT,
    column_name    NAME,
    chunk_interval TEXT,
    if_not_exists  BOOLEAN,
    outcome        TEXT        NOT NULL   -- 'created' | 'skipped' | 'no-op'
);
COMMENT ON TABLE _timescaledb_double.calls IS 'TEST DOUBLE: not TimescaleDB. One row per successful call to the double''s functions.';

GRANT SELECT, INSERT, UPDATE, DELETE ON _timescaledb_double.hypertables, _timescaledb_double.calls TO PUBLIC;
GRANT USAGE, SELECT ON SEQUENCE _timescaledb_double.hypertables_id_seq, _timescaledb_double.calls_id_seq TO PUBLIC;

-- Keep the records in pg_dump output, like TimescaleDB's catalog tables.
SELECT pg_catalog.pg_extension_config_dump('_timescaledb_double.hypertables', '');
SELECT pg_catalog.pg_extension_config_dump('_timescaledb_double.hypertables_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('_timescaledb_double.calls', '');
SELECT pg_catalog.pg_extension_config_dump('_timescaledb_double.calls_id_seq', '');

CREATE FUNCTION @extschema@.by_range(
    column_name        NAME,
    partition_interval ANYELEMENT = NULL::BIGINT,
    partition_func     REGPROC = NULL
) RETURNS _timescaledb_internal.dimension_info
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ROW($1, 'range', $2::TEXT,
               CASE WHEN $2 IS NULL THEN NULL ELSE pg_typeof($2)::REGTYPE END,
               $3)::_timescaledb_internal.dimension_info
$$;
COMMENT ON FUNCTION @extschema@.by_range(NAME, ANYELEMENT, REGPROC) IS 'TEST DOUBLE: not TimescaleDB';

CREATE FUNCTION @extschema@.create_hypertable(
    relation               REGCLASS,
    dimension              _timescaledb_internal.dimension_info,
    create_default_indexes BOOLEAN = TRUE,
    if_not_exists          BOOLEAN = FALSE,
    migrate_data           BOOLEAN = FALSE
) RETURNS TABLE(hypertable_id INTEGER, created BOOLEAN)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_schema    NAME;
    v_table     NAME;
    v_relkind   "char";
    v_col       NAME := (dimension).column_name;
    v_attnum    SMALLINT;
    v_atttype   REGTYPE;
    v_notnull   BOOLEAN;
    v_interval  TEXT := (dimension).partition_interval;
    v_itype     REGTYPE := (dimension).interval_type;
    v_is_time   BOOLEAN;
    v_nonempty  BOOLEAN;
    v_id        INTEGER;
    v_index     TEXT;
BEGIN
    IF relation IS NULL THEN
        RAISE EXCEPTION 'relation cannot be NULL' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF dimension IS NULL OR v_col IS NULL THEN
        RAISE EXCEPTION 'dimension cannot be NULL' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF (dimension).dimension_type IS DISTINCT FROM 'range' THEN
        RAISE EXCEPTION 'TEST DOUBLE: only by_range() dimensions are supported'
            USING ERRCODE = 'feature_not_supported';
    END IF;

    SELECT n.nspname, c.relname, c.relkind INTO v_schema, v_table, v_relkind
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = relation;
    IF v_relkind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION 'invalid relation type for "%"', v_table USING ERRCODE = 'wrong_object_type',
            HINT = 'Only regular tables can be turned into hypertables.';
    END IF;

    -- Forget tables that were dropped since their call.
    DELETE FROM _timescaledb_double.hypertables h
     WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = h.relid);

    SELECT h.id INTO v_id FROM _timescaledb_double.hypertables h WHERE h.relid = relation;
    IF FOUND THEN
        IF if_not_exists THEN
            RAISE NOTICE 'table "%" is already a hypertable, skipping', v_table;
            INSERT INTO _timescaledb_double.calls (function_name, table_name, column_name, chunk_interval, if_not_exists, outcome)
            VALUES ('create_hypertable', format('%I.%I', v_schema, v_table), v_col, v_interval, if_not_exists, 'skipped');
            RETURN QUERY SELECT v_id, FALSE;
            RETURN;
        END IF;
        RAISE EXCEPTION 'table "%" is already a hypertable', v_table USING ERRCODE = 'TS110';
    END IF;

    SELECT a.attnum, a.atttypid::REGTYPE, a.attnotnull INTO v_attnum, v_atttype, v_notnull
      FROM pg_attribute a
     WHERE a.attrelid = relation AND a.attname = v_col AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" does not exist', v_col USING ERRCODE = 'undefined_column';
    END IF;

    v_is_time := v_atttype IN ('timestamptz'::REGTYPE, 'timestamp'::REGTYPE, 'date'::REGTYPE);
    IF (dimension).partition_func IS NULL
       AND NOT v_is_time
       AND v_atttype NOT IN ('int2'::REGTYPE, 'int4'::REGTYPE, 'int8'::REGTYPE) THEN
        RAISE EXCEPTION 'invalid type for dimension "%"', v_col USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use an integer, timestamp, or date type.';
    END IF;

    IF v_interval IS NULL THEN
        IF NOT v_is_time THEN
            RAISE EXCEPTION 'integer dimensions require an explicit interval' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        v_interval := '7 days';
    ELSIF v_is_time AND v_itype IN ('int2'::REGTYPE, 'int4'::REGTYPE, 'int8'::REGTYPE) THEN
        -- An integer interval on a time column is microseconds in TimescaleDB.
        v_interval := (make_interval(secs => v_interval::NUMERIC / 1000000))::TEXT;
    ELSIF v_is_time AND v_itype IS DISTINCT FROM 'interval'::REGTYPE THEN
        RAISE EXCEPTION 'invalid interval type for % dimension', format_type(v_atttype, NULL)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use an interval.';
    ELSIF NOT v_is_time AND v_itype NOT IN ('int2'::REGTYPE, 'int4'::REGTYPE, 'int8'::REGTYPE) THEN
        RAISE EXCEPTION 'invalid interval type for % dimension', format_type(v_atttype, NULL)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use an integer.';
    END IF;
    IF v_is_time AND v_interval::INTERVAL <= INTERVAL '0' THEN
        RAISE EXCEPTION 'invalid interval: must be between 1 and %', 9223372036854775807
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', relation) INTO v_nonempty;
    IF v_nonempty AND NOT migrate_data THEN
        RAISE EXCEPTION 'table "%" is not empty', v_table USING ERRCODE = 'TS102',
            HINT = 'You can migrate data by specifying ''migrate_data => true'' when calling this function.';
    END IF;

    SELECT i.indexrelid::REGCLASS::TEXT INTO v_index
      FROM pg_index i
     WHERE i.indrelid = relation AND i.indisunique AND NOT (v_attnum = ANY (i.indkey::SMALLINT[]))
     LIMIT 1;
    IF v_index IS NOT NULL THEN
        RAISE EXCEPTION 'cannot create a unique index without the column "%" (used in partitioning)', v_col
            USING ERRCODE = 'TS103',
            HINT = format('If you''re creating a hypertable on a table with a primary key or unique index (%s), ensure the partitioning column is part of it.', v_index);
    END IF;

    IF NOT v_notnull THEN
        RAISE NOTICE 'adding not-null constraint to column "%"', v_col
            USING DETAIL = 'Dimensions cannot have NULL values.';
        EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET NOT NULL', relation, v_col);
    END IF;

    IF create_default_indexes AND NOT EXISTS (
        SELECT 1 FROM pg_index i WHERE i.indrelid = relation AND i.indkey[0] = v_attnum
    ) THEN
        EXECUTE format('CREATE INDEX %I ON %s (%I DESC)', v_table || '_' || v_col || '_idx', relation, v_col);
    END IF;

    INSERT INTO _timescaledb_double.hypertables (relid, table_schema, table_name, column_name, column_type, chunk_interval)
    VALUES (relation, v_schema, v_table, v_col, v_atttype, v_interval)
    RETURNING id INTO v_id;
    INSERT INTO _timescaledb_double.calls (function_name, table_name, column_name, chunk_interval, if_not_exists, outcome)
    VALUES ('create_hypertable', format('%I.%I', v_schema, v_table), v_col, v_interval, if_not_exists, 'created');

    RETURN QUERY SELECT v_id, TRUE;
END
$$;
COMMENT ON FUNCTION @extschema@.create_hypertable(REGCLASS, _timescaledb_internal.dimension_info, BOOLEAN, BOOLEAN, BOOLEAN)
    IS 'TEST DOUBLE: not TimescaleDB';

-- The pre-2.13 signature, still accepted by TimescaleDB 2.17.
CREATE FUNCTION @extschema@.create_hypertable(
    relation                REGCLASS,
    time_column_name        NAME,
    partitioning_column     NAME = NULL,
    number_partitions       INTEGER = NULL,
    associated_schema_name  NAME = NULL,
    associated_table_prefix NAME = NULL,
    chunk_time_interval     ANYELEMENT = NULL::BIGINT,
    create_default_indexes  BOOLEAN = TRUE,
    if_not_exists           BOOLEAN = FALSE,
    partitioning_func       REGPROC = NULL,
    migrate_data            BOOLEAN = FALSE,
    chunk_target_size       TEXT = NULL,
    chunk_sizing_func       REGPROC = NULL,
    time_partitioning_func  REGPROC = NULL
) RETURNS TABLE(hypertable_id INTEGER, schema_name NAME, table_name NAME, created BOOLEAN)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_id      INTEGER;
    v_created BOOLEAN;
BEGIN
    IF partitioning_column IS NOT NULL THEN
        RAISE EXCEPTION 'TEST DOUBLE: space partitioning (partitioning_column) is not supported'
            USING ERRCODE = 'feature_not_supported';
    END IF;
    SELECT r.hypertable_id, r.created INTO v_id, v_created
      FROM @extschema@.create_hypertable(
               relation,
               ROW(time_column_name, 'range', chunk_time_interval::TEXT,
                   CASE WHEN chunk_time_interval IS NULL THEN NULL ELSE pg_typeof(chunk_time_interval)::REGTYPE END,
                   time_partitioning_func)::_timescaledb_internal.dimension_info,
               create_default_indexes => create_default_indexes,
               if_not_exists => if_not_exists,
               migrate_data => migrate_data) r;
    RETURN QUERY
        SELECT v_id, h.table_schema, h.table_name, v_created
          FROM _timescaledb_double.hypertables h WHERE h.id = v_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_hypertable(REGCLASS, NAME, NAME, INTEGER, NAME, NAME, ANYELEMENT, BOOLEAN, BOOLEAN, REGPROC, BOOLEAN, TEXT, REGPROC, REGPROC)
    IS 'TEST DOUBLE: not TimescaleDB';

-- TimescaleDB's image disables its telemetry job with alter_job(1, scheduled => false).
-- The double has no jobs: it records the call and answers as if it had.
CREATE FUNCTION @extschema@.alter_job(
    job_id            INTEGER,
    schedule_interval INTERVAL = NULL,
    max_runtime       INTERVAL = NULL,
    max_retries       INTEGER = NULL,
    retry_period      INTERVAL = NULL,
    scheduled         BOOLEAN = NULL,
    config            JSONB = NULL,
    next_start        TIMESTAMPTZ = NULL,
    if_exists         BOOLEAN = FALSE,
    check_config      REGPROC = NULL,
    fixed_schedule    BOOLEAN = NULL,
    initial_start     TIMESTAMPTZ = NULL,
    timezone          TEXT = NULL
) RETURNS TABLE(job_id INTEGER, schedule_interval INTERVAL, max_runtime INTERVAL, max_retries INTEGER,
                retry_period INTERVAL, scheduled BOOLEAN, config JSONB, next_start TIMESTAMPTZ,
                check_config TEXT, fixed_schedule BOOLEAN, initial_start TIMESTAMPTZ, timezone TEXT)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO _timescaledb_double.calls (function_name, table_name, outcome)
    VALUES ('alter_job', 'job ' || $1::TEXT, 'no-op');
    SELECT $1, $2, $3, $4, $5, COALESCE($6, TRUE), $7, $8, $10::TEXT, COALESCE($11, TRUE), $12, $13;
$$;
COMMENT ON FUNCTION @extschema@.alter_job(INTEGER, INTERVAL, INTERVAL, INTEGER, INTERVAL, BOOLEAN, JSONB, TIMESTAMPTZ, BOOLEAN, REGPROC, BOOLEAN, TIMESTAMPTZ, TEXT)
    IS 'TEST DOUBLE: not TimescaleDB (no-op)';

CREATE VIEW timescaledb_information.hypertables AS
SELECT n.nspname                    AS hypertable_schema,
       c.relname                    AS hypertable_name,
       pg_get_userbyid(c.relowner)  AS owner,
       1::SMALLINT                  AS num_dimensions,
       0::BIGINT                    AS num_chunks,
       FALSE                        AS compression_enabled,
       NULL::NAME[]                 AS tablespaces
  FROM _timescaledb_double.hypertables h
  JOIN pg_class c     ON c.oid = h.relid
  JOIN pg_namespace n ON n.oid = c.relnamespace;
COMMENT ON VIEW timescaledb_information.hypertables IS 'TEST DOUBLE: not TimescaleDB';

CREATE VIEW timescaledb_information.dimensions AS
SELECT n.nspname                    AS hypertable_schema,
       c.relname                    AS hypertable_name,
       1::SMALLINT                  AS dimension_number,
       h.column_name                AS column_name,
       h.column_type                AS column_type,
       'Time'::TEXT                 AS dimension_type,
       CASE WHEN h.column_type IN ('timestamptz'::REGTYPE, 'timestamp'::REGTYPE, 'date'::REGTYPE)
            THEN h.chunk_interval::INTERVAL END AS time_interval,
       CASE WHEN h.column_type IN ('timestamptz'::REGTYPE, 'timestamp'::REGTYPE, 'date'::REGTYPE)
            THEN NULL ELSE h.chunk_interval::BIGINT END AS integer_interval,
       NULL::NAME                   AS integer_now_func,
       NULL::SMALLINT               AS num_partitions
  FROM _timescaledb_double.hypertables h
  JOIN pg_class c     ON c.oid = h.relid
  JOIN pg_namespace n ON n.oid = c.relnamespace;
COMMENT ON VIEW timescaledb_information.dimensions IS 'TEST DOUBLE: not TimescaleDB';

GRANT SELECT ON timescaledb_information.hypertables, timescaledb_information.dimensions TO PUBLIC;
