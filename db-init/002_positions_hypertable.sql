-- positions: exactly what the processor service writes (the processor wins any conflict).
-- device_id is the tracker's IMEI; attributes holds Teltonika IO elements keyed by IO id.
-- Never a Directus collection: the snapshot tooling strips it.
CREATE TABLE IF NOT EXISTS positions (
    device_id   text             NOT NULL,
    ts          timestamptz      NOT NULL,
    latitude    double precision NOT NULL,
    longitude   double precision NOT NULL,
    altitude    real             NOT NULL,
    angle       real             NOT NULL,
    speed       real             NOT NULL,
    satellites  smallint         NOT NULL,
    priority    smallint         NOT NULL, -- 2 = panic
    attributes  jsonb            NOT NULL,
    ingested_at timestamptz      NOT NULL DEFAULT now(),
    codec       text             NOT NULL
);

-- Our own indexes below, so no default ones from create_hypertable.
SELECT create_hypertable(
    'positions',
    by_range('ts', INTERVAL '1 day'),
    create_default_indexes => FALSE,
    if_not_exists => TRUE
);

CREATE UNIQUE INDEX IF NOT EXISTS positions_device_id_ts_key ON positions (device_id, ts);
CREATE INDEX IF NOT EXISTS positions_ts_idx ON positions (ts);
