-- TimescaleDB for the positions hypertable. The timescaledb-ha image already created it in
-- POSTGRES_DB, so this prints a NOTICE there; it matters on databases created otherwise.
CREATE EXTENSION IF NOT EXISTS timescaledb;
